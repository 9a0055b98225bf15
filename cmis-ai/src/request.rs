//! Checks of a generation request, made before anything is sent to a provider.

use cmis_core::{Error, GenerateRequest, Result};

/// The longest brief accepted, in characters: a bound on what one request can cost.
pub const MAX_BRIEF_CHARS: usize = 10_000;
/// The most variants one request may ask for.
pub const MAX_VARIANTS: u32 = 10;

/// Checks a request before anything is sent.
pub(crate) fn validate(request: &GenerateRequest) -> Result<()> {
    let brief = request.brief.trim();
    if !brief.chars().any(char::is_alphanumeric) {
        return Err(Error::invalid_input(
            "the brief is empty: give a topic or a text",
        ));
    }
    if brief.chars().count() > MAX_BRIEF_CHARS {
        return Err(Error::invalid_input(format!(
            "the brief is longer than {MAX_BRIEF_CHARS} characters"
        )));
    }
    if request.variants == 0 || request.variants > MAX_VARIANTS {
        return Err(Error::invalid_input(format!(
            "variants must be between 1 and {MAX_VARIANTS}, not {}",
            request.variants
        )));
    }
    if let Some(t) = request.temperature
        && !(t.is_finite() && (0.0..=2.0).contains(&t))
    {
        return Err(Error::invalid_input(format!(
            "temperature must be between 0 and 2, not {t}"
        )));
    }
    for (what, value) in [("tone", &request.tone), ("language", &request.language)] {
        if value.as_ref().is_some_and(|v| v.chars().count() > 64) {
            return Err(Error::invalid_input(format!(
                "the {what} is longer than 64 characters"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cmis_core::GenerationTask;

    #[test]
    fn bad_requests_are_refused_before_any_call() {
        use cmis_core::{ErrorKind, Platform};
        let ok = GenerateRequest::new(
            cmis_core::TenantId::new("t"),
            GenerationTask::Caption,
            Platform::TikTok,
            "topic",
        );
        assert!(validate(&ok).is_ok());
        let cases = [
            GenerateRequest::new(
                cmis_core::TenantId::new("t"),
                GenerationTask::Caption,
                Platform::TikTok,
                "  !! ",
            ),
            ok.clone().with_temperature(f32::NAN),
            ok.clone().with_temperature(3.0),
            ok.with_variants(11),
            GenerateRequest::new(
                cmis_core::TenantId::new("t"),
                GenerationTask::Caption,
                Platform::TikTok,
                "x".repeat(10_001),
            ),
        ];
        for case in cases {
            assert_eq!(validate(&case).unwrap_err().kind(), ErrorKind::InvalidInput);
        }
    }
}
