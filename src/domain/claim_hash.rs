//! The hash of a claim, as the evidence export states it: the canonical bytes of a claim
//! (the same rules as `domain::chain`: compact JSON, keys in the order declared below,
//! null keys left out), its SHA-256, and one digest over every claim of an export.
//!
//! ```text
//! sha256        = SHA-256(canonical(claim))
//! claims_sha256 = SHA-256(hex(sha256 of claim 1) || hex(sha256 of claim 2) || …)
//! ```
//!
//! in the order of the file, `hex` being 64 lowercase hexadecimal ASCII digits. Claims
//! are outside the convoys' chains: a claim can be recorded at any time, long after the
//! week it is about was published, and it never changes the ledger, so it must move
//! neither a convoy's figures nor its chain head (docs/src/evidence.md says why).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::chain::canonical;

/// A claim as its hash covers it: every stored column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub id: String,
    pub convoy_id: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Microseconds since the Unix epoch, and the offset (seconds east of UTC) given.
    pub published_at: i64,
    pub published_offset: i32,
    pub kg: i64,
    /// The quantity and unit the client sent (`"400"`, `"t"`).
    pub quantity: String,
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trucks: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    pub body_sha256: String,
    pub created_by: String,
    pub created_at: i64,
}

/// The canonical bytes of a claim.
pub fn canonical_claim(c: &ClaimRecord) -> Vec<u8> {
    canonical(c)
}

/// `SHA-256(canonical(claim))`, in lowercase hex.
pub fn claim_sha256(c: &ClaimRecord) -> String {
    hex::encode(Sha256::digest(canonical_claim(c)))
}

/// The digest over an export's claims, fed one claim hash at a time in file order.
#[derive(Clone, Default)]
pub struct ClaimsDigest(Sha256);

impl ClaimsDigest {
    pub fn new() -> ClaimsDigest {
        ClaimsDigest::default()
    }

    /// Adds the next claim's hash (its 64 hex digits).
    pub fn push(&mut self, sha256: &str) {
        self.0.update(sha256.as_bytes());
    }

    /// The digest, in lowercase hex (that of no bytes when there was no claim).
    pub fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> ClaimRecord {
        ClaimRecord {
            id: "k1".into(),
            convoy_id: "c1".into(),
            source: "ArmRadio".into(),
            url: Some("https://example.org/news/1".into()),
            published_at: 1_690_369_200_000_000,
            published_offset: 14_400,
            kg: 400_000,
            quantity: "400".into(),
            unit: "t".into(),
            trucks: Some(19),
            quote: Some("400 tonnes, «humanitarian»".into()),
            body_sha256: "b".into(),
            created_by: "t1".into(),
            created_at: 1_690_370_000_000_000,
        }
    }

    fn bare() -> ClaimRecord {
        ClaimRecord {
            id: "k2".into(),
            url: None,
            kg: 360_000,
            quantity: "360".into(),
            trucks: None,
            quote: None,
            ..claim()
        }
    }

    #[test]
    fn the_canonical_form_is_compact_json_in_declared_order_without_nulls() {
        assert_eq!(
            String::from_utf8(canonical_claim(&claim())).unwrap(),
            r#"{"id":"k1","convoy_id":"c1","source":"ArmRadio","url":"https://example.org/news/1","published_at":1690369200000000,"published_offset":14400,"kg":400000,"quantity":"400","unit":"t","trucks":19,"quote":"400 tonnes, «humanitarian»","body_sha256":"b","created_by":"t1","created_at":1690370000000000}"#
        );
        assert_eq!(
            String::from_utf8(canonical_claim(&bare())).unwrap(),
            r#"{"id":"k2","convoy_id":"c1","source":"ArmRadio","published_at":1690369200000000,"published_offset":14400,"kg":360000,"quantity":"360","unit":"t","body_sha256":"b","created_by":"t1","created_at":1690370000000000}"#
        );
    }

    #[test]
    fn known_vectors() {
        // As Python's json.dumps(separators=(",", ":"), ensure_ascii=False) and hashlib
        // give them.
        let (a, b) = (claim_sha256(&claim()), claim_sha256(&bare()));
        assert_eq!(
            a,
            "6071f45ae40138e3b96dd9ecb1de31e3200773d64994dda95976230944f93e7e"
        );
        assert_eq!(
            b,
            "645bafbd9cf43f3dbd65ebcf252561059c854071e5d392c589604f87dec65ddd"
        );
        let mut d = ClaimsDigest::new();
        d.push(&a);
        d.push(&b);
        assert_eq!(
            d.finish(),
            "9405465ec99045a9be9db7876ef7914cc80d8caf1d4e97bfe60fec3c97820776"
        );
        assert_eq!(
            ClaimsDigest::new().finish(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn every_field_change_changes_the_hash_and_the_order_changes_the_digest() {
        let base = claim();
        let h = claim_sha256(&base);
        let changes: Vec<fn(&mut ClaimRecord)> = vec![
            |c| c.id.push('x'),
            |c| c.convoy_id.push('x'),
            |c| c.source.push('x'),
            |c| c.url = None,
            |c| c.published_at += 1,
            |c| c.published_offset = 0,
            |c| c.kg += 1,
            |c| c.quantity.push('0'),
            |c| c.unit = "kg".into(),
            |c| c.trucks = Some(20),
            |c| c.quote = None,
            |c| c.body_sha256.push('x'),
            |c| c.created_by.push('x'),
            |c| c.created_at += 1,
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut c = base.clone();
            change(&mut c);
            assert_ne!(claim_sha256(&c), h, "change {i}");
        }
        let digest = |hs: &[&str]| {
            let mut d = ClaimsDigest::new();
            hs.iter().for_each(|h| d.push(h));
            d.finish()
        };
        let b = claim_sha256(&bare());
        assert_ne!(digest(&[&h, &b]), digest(&[&b, &h]));
        assert_ne!(digest(&[&h, &b]), digest(&[&h]));
    }

    #[test]
    fn a_record_read_back_from_its_canonical_form_hashes_the_same() {
        for c in [claim(), bare()] {
            let back: ClaimRecord = serde_json::from_slice(&canonical_claim(&c)).unwrap();
            assert_eq!(claim_sha256(&back), claim_sha256(&c));
        }
    }
}
