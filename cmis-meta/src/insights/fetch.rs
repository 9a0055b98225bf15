//! One `/insights` read, with the per-metric retry: when Meta refuses the call with code 100
//! because one metric is retired or unsupported, every metric is asked for alone, the ones
//! that work are kept and the refused ones are reported (`docs/insights.md` §0, brightbean's
//! `fetch_insights_safe`). A permission error (code 200, code 10) is raised as is: asking metric
//! by metric would not change it.

use std::collections::BTreeMap;

use cmis_core::{Error, ErrorKind, MetricValue, RefusedMetric, Result};
use serde_json::Value;

use crate::client::{ApiRequest, MetaClient, Session};

/// What one or more insights calls gave.
#[derive(Debug, Default)]
pub(crate) struct Read {
    pub(crate) raw: BTreeMap<String, MetricValue>,
    pub(crate) refused: Vec<RefusedMetric>,
}

/// Whether `err` is Meta's refusal of a metric name (code 100, "…valid insights metric",
/// "metric[0] must be one of …", "does not support the views metric …"), which names the
/// metrics, not the object or the token.
pub(crate) fn refuses_a_metric(err: &Error) -> bool {
    err.kind() != ErrorKind::Permission
        && err.platform_code() == Some("100")
        && err.message().to_ascii_lowercase().contains("metric")
}

/// Whether `err` is Instagram's `(#10) Not enough viewers for the media to show insights`
/// (`docs/insights.md` §2): the media has no insights to give yet, which is not a missing
/// permission although code 10 usually is one.
pub(crate) fn too_few_viewers(err: &Error) -> bool {
    err.platform_code() == Some("10")
        && err
            .message()
            .to_ascii_lowercase()
            .contains("not enough viewers")
}

/// Reads `metrics` from the insights edge at `url` (with `query` besides `metric`).
pub(crate) async fn read_insights(
    client: &MetaClient,
    s: Session<'_>,
    url: &str,
    metrics: &[&str],
    query: &[(&str, &str)],
) -> Result<Read> {
    let mut out = Read::default();
    if metrics.is_empty() {
        return Ok(out);
    }
    let request = |names: &str| {
        let mut req = ApiRequest::get(url.to_owned()).query("metric", names);
        for (k, v) in query {
            req = req.query(k, *v);
        }
        req
    };
    match client.read(s, &request(&metrics.join(","))).await {
        Ok(v) => {
            parse_into(&v, &mut out.raw);
            return Ok(out);
        }
        Err(e) if too_few_viewers(&e) => {
            out.refused = metrics
                .iter()
                .map(|m| RefusedMetric::new(*m, e.message()))
                .collect();
            return Ok(out);
        }
        Err(e) if refuses_a_metric(&e) => {
            if let [only] = metrics {
                out.refused.push(RefusedMetric::new(*only, e.message()));
                return Ok(out);
            }
            tracing::info!(
                metrics = metrics.len(),
                "insights call refused a metric; asking metric by metric"
            );
        }
        Err(e) => return Err(e),
    }
    for name in metrics {
        match client.read(s, &request(name)).await {
            Ok(v) => parse_into(&v, &mut out.raw),
            Err(e) if refuses_a_metric(&e) => {
                tracing::warn!(metric = name, "Meta refused an insights metric");
                out.refused.push(RefusedMetric::new(*name, e.message()));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Reads `{"data":[{"name":…,"period":…,"values":[{"value":…}]}]}` and the `total_value`
/// shape into `raw`. A metric given for several periods keeps its `lifetime` value. A value
/// that is null or not a number or object is left out (no data is not zero).
pub(crate) fn parse_into(v: &Value, raw: &mut BTreeMap<String, MetricValue>) {
    let Some(data) = v.get("data").and_then(Value::as_array) else {
        return;
    };
    for item in data {
        let Some(name) = item.get("name").and_then(Value::as_str) else {
            continue;
        };
        let lifetime = item.get("period").and_then(Value::as_str) == Some("lifetime");
        if raw.contains_key(name) && !lifetime {
            continue;
        }
        let value = item
            .get("values")
            .and_then(Value::as_array)
            .and_then(|vals| vals.last())
            .and_then(|last| last.get("value"))
            .or_else(|| item.get("total_value").and_then(|t| t.get("value")));
        if let Some(value) = value.and_then(|v| serde_json::from_value(v.clone()).ok()) {
            raw.insert(name.to_owned(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_objects_and_total_values_are_read() {
        let body = json!({"data":[
            {"name":"post_total_media_view_unique","period":"lifetime","values":[{"value":21105}]},
            {"name":"post_reactions_by_type_total","period":"lifetime","values":[{"value":{"like":330,"love":2}}]},
            {"name":"views","total_value":{"value":12}},
            {"name":"reach","period":"day","values":[{"value":null}]},
        ]});
        let mut raw = BTreeMap::new();
        parse_into(&body, &mut raw);
        assert_eq!(raw["post_total_media_view_unique"], MetricValue::Int(21105));
        assert_eq!(raw["post_reactions_by_type_total"].total(), Some(332));
        assert_eq!(raw["views"], MetricValue::Int(12));
        assert!(!raw.contains_key("reach"), "null is no data, not zero");
    }

    #[test]
    fn the_lifetime_value_wins_over_a_daily_one() {
        let body = json!({"data":[
            {"name":"post_clicks","period":"day","values":[{"value":3}]},
            {"name":"post_clicks","period":"lifetime","values":[{"value":40}]},
            {"name":"post_clicks","period":"day","values":[{"value":5}]},
        ]});
        let mut raw = BTreeMap::new();
        parse_into(&body, &mut raw);
        assert_eq!(raw["post_clicks"], MetricValue::Int(40));
    }

    #[test]
    fn only_code_100_about_a_metric_is_a_refused_metric() {
        let m = |code: &str, msg: &str| Error::rejected(msg).with_platform_code(code);
        assert!(refuses_a_metric(&m(
            "100",
            "(#100) The value must be a valid insights metric"
        )));
        assert!(refuses_a_metric(&m(
            "100",
            "(#100) metric[0] must be one of the following values: a, b"
        )));
        assert!(!refuses_a_metric(&m(
            "100",
            "Unsupported get request. Object does not exist"
        )));
        assert!(!refuses_a_metric(
            &Error::permission("(#200) Permissions error: read_insights metric")
                .with_platform_code("200")
        ));
    }
}
