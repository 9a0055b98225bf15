//! The offline generator: no network, no key, deterministic, within every platform's limits.

use cmis_ai::{AiGenerator, LengthUnit, Limits, OfflineGenerator};
use cmis_core::{ContentGenerator, GenerateRequest, GenerationTask, Platform};

fn long_brief() -> String {
    "Our bakery in Lisbon celebrates ten years 🎉 with sourdough workshops, pastel de nata \
     tastings and live fado music every evening. "
        .repeat(60)
}

#[tokio::test]
async fn captions_fit_every_platform_with_their_hashtags() {
    let generator = AiGenerator::builder().build().unwrap();
    let limits = Limits::default();
    for platform in Platform::ALL {
        let req = GenerateRequest::new(
            cmis_core::TenantId::new("acme"),
            GenerationTask::Caption,
            platform,
            long_brief(),
        );
        let out = generator.generate(&req).await.unwrap();
        let rules = limits.rules(platform).unwrap();
        let full = format!("{}\n\n{}", out.text, out.hashtags.join(" "));
        assert!(rules.unit.len(&full) <= rules.max_caption, "{platform}");
        assert!(!out.hashtags.is_empty() && out.hashtags.len() <= rules.max_hashtags);
        assert_eq!(out.provenance.provider, "offline");
        assert_eq!(out.provenance.model, "offline-rake-v1");
        if platform == Platform::TikTok {
            // The emoji count twice in UTF-16, so TikTok's text is shorter than Instagram's.
            assert_eq!(rules.unit, LengthUnit::Utf16);
        }
        if rules.max_caption < 10_000 {
            assert!(
                out.text.ends_with('.') || out.text.ends_with('…'),
                "{}",
                out.text
            );
        }
    }
}

#[tokio::test]
async fn deterministic_and_honestly_derived_from_the_brief() {
    let req = GenerateRequest::new(
        cmis_core::TenantId::new("acme"),
        GenerationTask::Variants,
        Platform::Instagram,
        "Grand opening of our Lisbon bakery this Saturday, free coffee for early birds",
    )
    .with_variants(3);
    let a = OfflineGenerator::new().generate(&req).await.unwrap();
    let b = OfflineGenerator::new().generate(&req).await.unwrap();
    assert_eq!(a.variants, b.variants);
    assert_eq!(a.hashtags, b.hashtags);
    assert_eq!(a.variants.len(), 3);
    let brief = "Grand opening of our Lisbon bakery this Saturday, free coffee for early birds.";
    assert_eq!(a.variants[0], brief);
    assert!(a.variants.iter().all(|v| v.contains(brief)));
    // Hashtags come from the brief's own keyphrases, as #CamelCase, capped at 5.
    assert_eq!(a.hashtags.len(), 5);
    for tag in &a.hashtags {
        let words = tag.trim_start_matches('#').to_lowercase();
        assert!(
            brief.to_lowercase().replace(' ', "").contains(&words),
            "{tag} is not from the brief"
        );
    }
}

#[tokio::test]
async fn hashtag_task_and_rewrite_for_another_platform() {
    let g = OfflineGenerator::new();
    let tags = g
        .generate(&GenerateRequest::new(
            cmis_core::TenantId::new("acme"),
            GenerationTask::Hashtags,
            Platform::TikTok,
            "vintage sneaker restoration tips",
        ))
        .await
        .unwrap();
    assert_eq!(tags.hashtags, vec!["#VintageSneakerRestoration", "#Tips"]);
    assert_eq!(tags.text, "#VintageSneakerRestoration #Tips");

    let rewrite = g
        .generate(&GenerateRequest::new(
            cmis_core::TenantId::new("acme"),
            GenerationTask::Rewrite {
                from: Platform::Facebook,
            },
            Platform::Instagram,
            "New drop today: restored vintage sneakers #sneakers #vintage #sneakers",
        ))
        .await
        .unwrap();
    assert_eq!(rewrite.text, "New drop today: restored vintage sneakers.");
    assert_eq!(rewrite.hashtags[..2], ["#Sneakers", "#Vintage"]);
}

#[tokio::test]
async fn the_instagram_cap_is_configurable() {
    let generator = AiGenerator::builder()
        .limits(Limits::default().with_instagram_hashtags(2))
        .build()
        .unwrap();
    let req = GenerateRequest::new(
        cmis_core::TenantId::new("acme"),
        GenerationTask::Caption,
        Platform::Instagram,
        long_brief(),
    );
    assert_eq!(generator.generate(&req).await.unwrap().hashtags.len(), 2);
}

#[tokio::test]
async fn bad_input_is_a_typed_error() {
    let generator = AiGenerator::builder().build().unwrap();
    let err = generator
        .generate(&GenerateRequest::new(
            cmis_core::TenantId::new("acme"),
            GenerationTask::Caption,
            Platform::Unknown,
            "x y",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), cmis_core::ErrorKind::InvalidInput);
}
