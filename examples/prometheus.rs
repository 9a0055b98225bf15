//! A Prometheus exporter for the `metrics` facade cmis records through, small enough to read:
//! counters, gauges, and histograms as Prometheus histograms with fixed buckets, rendered in the
//! text exposition format. A production program would use a maintained exporter crate; this one
//! keeps the examples' dependency tree to one version of each crate.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

/// Bucket bounds (seconds) of every histogram: publish calls and lateness.
const BUCKETS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0,
];

#[derive(Debug, Default)]
struct Series {
    /// Counters and gauges, by `name{labels}`.
    values: BTreeMap<(String, String), f64>,
    /// Histograms: bucket counts, sum and count, by `name`, `labels`.
    histograms: BTreeMap<(String, String), (Vec<u64>, f64, u64)>,
}

/// The registry the recorder writes to and [`Registry::render`] reads.
#[derive(Debug, Default)]
pub struct Registry {
    series: Mutex<Series>,
}

impl Registry {
    fn with<T>(&self, f: impl FnOnce(&mut Series) -> T) -> T {
        f(&mut self.series.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Every series, in Prometheus's text format.
    pub fn render(&self) -> String {
        self.with(|s| {
            let mut out = String::new();
            for ((name, labels), v) in &s.values {
                let _ = writeln!(out, "{name}{} {v}", braces(labels));
            }
            for ((name, labels), (buckets, sum, count)) in &s.histograms {
                for (le, n) in BUCKETS.iter().zip(buckets) {
                    let _ = writeln!(
                        out,
                        "{name}_bucket{} {n}",
                        braces(&join(labels, &format!("le=\"{le}\"")))
                    );
                }
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {count}",
                    braces(&join(labels, "le=\"+Inf\""))
                );
                let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
                let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
            }
            out
        })
    }
}

fn braces(labels: &str) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    }
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a},{b}")
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn series_key(key: &Key) -> (String, String) {
    let labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}=\"{}\"", l.key(), label_value(l.value())))
        .collect();
    (key.name().to_owned(), labels.join(","))
}

struct Handle(Arc<Registry>, (String, String));

impl metrics::CounterFn for Handle {
    fn increment(&self, value: u64) {
        #[allow(clippy::cast_precision_loss)]
        self.0
            .with(|s| *s.values.entry(self.1.clone()).or_default() += value as f64);
    }
    fn absolute(&self, value: u64) {
        #[allow(clippy::cast_precision_loss)]
        self.0
            .with(|s| s.values.insert(self.1.clone(), value as f64));
    }
}

impl metrics::GaugeFn for Handle {
    fn increment(&self, value: f64) {
        self.0
            .with(|s| *s.values.entry(self.1.clone()).or_default() += value);
    }
    fn decrement(&self, value: f64) {
        self.0
            .with(|s| *s.values.entry(self.1.clone()).or_default() -= value);
    }
    fn set(&self, value: f64) {
        self.0.with(|s| s.values.insert(self.1.clone(), value));
    }
}

impl metrics::HistogramFn for Handle {
    fn record(&self, value: f64) {
        self.0.with(|s| {
            let h = s
                .histograms
                .entry(self.1.clone())
                .or_insert_with(|| (vec![0; BUCKETS.len()], 0.0, 0));
            for (le, n) in BUCKETS.iter().zip(h.0.iter_mut()) {
                if value <= *le {
                    *n += 1;
                }
            }
            h.1 += value;
            h.2 += 1;
        });
    }
}

struct Exporter(Arc<Registry>);

impl Recorder for Exporter {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Handle(self.0.clone(), series_key(key))))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(Arc::new(Handle(self.0.clone(), series_key(key))))
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Handle(self.0.clone(), series_key(key))))
    }
}

/// Installs the exporter as the process's `metrics` recorder; `None` if one is installed
/// already.
pub fn install() -> Option<Arc<Registry>> {
    let registry = Arc::new(Registry::default());
    metrics::set_global_recorder(Exporter(registry.clone())).ok()?;
    Some(registry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_has_buckets_sums_and_escaped_labels() {
        let registry = Arc::new(Registry::default());
        let recorder = Exporter(registry.clone());
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!("cmis_job_outcomes_total", "platform" => "facebook", "outcome" => "published").increment(2);
            metrics::histogram!("cmis_publish_call_seconds", "platform" => "facebook").record(0.3);
            metrics::gauge!("cmis_jobs", "state" => "a\"b").set(4.0);
        });
        let text = registry.render();
        assert!(
            text.contains("cmis_job_outcomes_total{platform=\"facebook\",outcome=\"published\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("cmis_publish_call_seconds_bucket{platform=\"facebook\",le=\"0.25\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("cmis_publish_call_seconds_bucket{platform=\"facebook\",le=\"0.5\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("cmis_publish_call_seconds_count{platform=\"facebook\"} 1"),
            "{text}"
        );
        assert!(text.contains("cmis_jobs{state=\"a\\\"b\"} 4"), "{text}");
    }
}
