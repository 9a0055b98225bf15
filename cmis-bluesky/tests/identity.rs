//! Finding a PDS: handle → DID → DID document → `#atproto_pds`, cached, and a document that
//! names a private or metadata address refused.

mod common;

use cmis_bluesky::IdentityResolver;
use cmis_core::ErrorKind;
use cmis_http::{AddressClass, UrlPolicy};
use common::*;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn local_policy() -> UrlPolicy {
    UrlPolicy::new()
        .allow_http(true)
        .allow(AddressClass::Loopback)
}

fn resolver(server: &MockServer, policy: UrlPolicy) -> IdentityResolver {
    IdentityResolver::builder()
        .plc_directory_url(server.uri())
        .entryway_url(server.uri())
        .url_policy(policy)
        .build()
        .unwrap()
}

/// A DID document as the PLC directory serves it, naming `pds`.
fn did_doc(pds: &str) -> serde_json::Value {
    json!({
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": DID,
        "alsoKnownAs": ["at://alice.bsky.social"],
        "verificationMethod": [],
        "service": [{
            "id": "#atproto_pds",
            "type": "AtprotoPersonalDataServer",
            "serviceEndpoint": pds
        }]
    })
}

#[tokio::test]
async fn a_handle_resolves_to_its_did_and_pds_once_a_day() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .and(query_param("handle", "alice.bsky.social"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"did": DID})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/{DID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(did_doc(&server.uri())))
        .expect(1)
        .mount(&server)
        .await;
    let resolver = resolver(&server, local_policy());
    let identity = resolver.resolve("@Alice.bsky.social").await.unwrap();
    assert_eq!(identity.did, DID);
    assert_eq!(identity.pds.as_str().trim_end_matches('/'), server.uri());
    // Cached: no second lookup.
    assert_eq!(
        resolver.resolve("alice.bsky.social").await.unwrap(),
        identity
    );
}

#[tokio::test]
async fn a_did_document_naming_a_metadata_or_private_address_is_refused() {
    for pds in [
        "http://169.254.169.254",
        "https://10.0.0.7",
        "http://127.0.0.1:9",
        // A name, not an address: what it resolves to is checked.
        "https://localhost",
    ] {
        let server = server().await;
        Mock::given(method("GET"))
            .and(path(format!("/{DID}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(did_doc(pds)))
            .expect(1)
            .mount(&server)
            .await;
        // The default policy: public https hosts only.
        let err = resolver(&server, UrlPolicy::new())
            .resolve(DID)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{pds}: {err}");
    }
    // A client with the policy refuses a private PDS too, before any call.
    let err = cmis_bluesky::BlueskyClient::builder()
        .pds_url("https://10.1.2.3")
        .url_policy(UrlPolicy::new())
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn unknown_handles_and_documents_without_a_pds_are_clear_errors() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "InvalidRequest", "message": "Unable to resolve handle"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/{DID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": DID, "service": []})))
        .expect(1)
        .mount(&server)
        .await;
    let resolver = resolver(&server, local_policy());
    let err = resolver.resolve("nobody.example.com").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("does not resolve"), "{err}");
    let err = resolver.resolve(DID).await.unwrap_err();
    assert!(err.message().contains("names no PDS"), "{err}");
    for bad in ["", "did:key:z6Mk", "did:web:a.example:path"] {
        assert_eq!(
            resolver.resolve(bad).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}
