//! The audit chain (审计日志): each record carries the SM3 hash of the previous one, so
//! changing, inserting or deleting a record in the middle breaks the chain at that point.
//!
//! Canonical form (version 1), hashed with SM3 (GB/T 32905-2016): the line `yingshang-audit-v1`
//! followed by each field as `<byte length>:<bytes>\n` in this order: seq, at (RFC 3339 UTC
//! with milliseconds), actor_id, actor_name, action, object_type, object_id, outcome, ip,
//! detail, prev_hash. Length prefixes make the encoding unambiguous whatever the fields hold.

use sm3::{Digest, Sm3};
use time::OffsetDateTime;

/// `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "success" => Some(Outcome::Success),
            "failure" => Some(Outcome::Failure),
            "denied" => Some(Outcome::Denied),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Success => "成功",
            Outcome::Failure => "失败",
            Outcome::Denied => "拒绝",
        }
    }
}

/// What a caller records; the store adds seq, time and the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub outcome: Outcome,
    pub ip: String,
    pub detail: String,
}

impl AuditEntry {
    pub fn new(action: &str, object_type: &str, object_id: &str) -> Self {
        AuditEntry {
            actor_id: "system".into(),
            actor_name: "系统".into(),
            action: action.into(),
            object_type: object_type.into(),
            object_id: object_id.into(),
            outcome: Outcome::Success,
            ip: String::new(),
            detail: String::new(),
        }
    }

    pub fn by(mut self, actor_id: &str, actor_name: &str) -> Self {
        self.actor_id = actor_id.into();
        self.actor_name = actor_name.into();
        self
    }

    pub fn from_ip(mut self, ip: &str) -> Self {
        self.ip = ip.into();
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

fn field(buf: &mut Vec<u8>, v: &str) {
    buf.extend_from_slice(v.len().to_string().as_bytes());
    buf.push(b':');
    buf.extend_from_slice(v.as_bytes());
    buf.push(b'\n');
}

pub fn canonical(seq: i64, at: OffsetDateTime, e: &AuditEntry, prev_hash: &str) -> Vec<u8> {
    let mut b = Vec::with_capacity(256);
    b.extend_from_slice(b"yingshang-audit-v1\n");
    field(&mut b, &seq.to_string());
    field(&mut b, &crate::clock::format_utc_millis(at));
    field(&mut b, &e.actor_id);
    field(&mut b, &e.actor_name);
    field(&mut b, &e.action);
    field(&mut b, &e.object_type);
    field(&mut b, &e.object_id);
    field(&mut b, e.outcome.as_str());
    field(&mut b, &e.ip);
    field(&mut b, &e.detail);
    field(&mut b, prev_hash);
    b
}

pub fn sm3_hex(data: &[u8]) -> String {
    hex::encode(Sm3::digest(data))
}

/// Builds the next record of the chain.
pub fn seal(seq: i64, at: OffsetDateTime, entry: AuditEntry, prev_hash: &str) -> AuditRecord {
    // Stored times have millisecond precision; hash exactly what is stored.
    let at = crate::clock::from_millis(crate::clock::to_millis(at));
    let hash = sm3_hex(&canonical(seq, at, &entry, prev_hash));
    AuditRecord { seq, at, entry, prev_hash: prev_hash.to_string(), hash }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("审计记录 #{seq} 校验失败：{reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Checks records in order, one at a time, so a log of any size verifies in constant memory.
#[derive(Debug)]
pub struct ChainVerifier {
    prev_hash: String,
    next_seq: i64,
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier { prev_hash: GENESIS_HASH.to_string(), next_seq: 1, checked: 0 }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, r: &AuditRecord) -> Result<(), ChainBreak> {
        let brk = |reason: String| Err(ChainBreak { seq: r.seq, reason });
        if r.seq != self.next_seq {
            return brk(format!("序号应为 {}，记录缺失或被插入", self.next_seq));
        }
        if r.prev_hash != self.prev_hash {
            return brk("前一条记录的哈希不符，前序记录被改动或删除".into());
        }
        let computed = sm3_hex(&canonical(r.seq, r.at, &r.entry, &r.prev_hash));
        if computed != r.hash {
            return brk("记录内容与其 SM3 哈希不符，记录被篡改".into());
        }
        self.prev_hash = r.hash.clone();
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// Compares the end of the chain with the separately stored head, which catches deletion
    /// of the newest records.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<u64, ChainBreak> {
        if head_seq != self.next_seq - 1 || (head_seq > 0 && head_hash != self.prev_hash) {
            return Err(ChainBreak {
                seq: self.next_seq,
                reason: format!("链头记录为 #{head_seq}，但日志只校验到 #{}，末尾记录被删除", self.next_seq - 1),
            });
        }
        Ok(self.checked)
    }
}

/// A signed anchor of the chain kept outside the database (the checkpoint file, and the log):
/// the head's sequence number and hash at a moment, signed with HMAC-SM3 under a key that is
/// not in the database, each line covering the one before. Whoever can write the database can
/// recompute keyless SM3 hashes or cut the newest records and move the head; they cannot make
/// the chain agree with a checkpoint they cannot sign.
///
/// Line form: `v1 <TAB> seq <TAB> hash <TAB> at (ms UTC) <TAB> mac`, where mac is the hex of
/// HMAC-SM3(key, "yingshang-audit-checkpoint-v1\n" seq "\n" hash "\n" at "\n" previous mac);
/// the first line's previous mac is [`GENESIS_HASH`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub at_ms: i64,
    pub mac: String,
}

fn checkpoint_mac(key: &[u8], seq: i64, hash: &str, at_ms: i64, prev_mac: &str) -> String {
    let msg = format!("yingshang-audit-checkpoint-v1\n{seq}\n{hash}\n{at_ms}\n{prev_mac}");
    hex::encode(crate::crypto::hmac_sm3(key, msg.as_bytes()))
}

impl Checkpoint {
    pub fn sign(key: &[u8], seq: i64, hash: &str, at_ms: i64, prev_mac: &str) -> Checkpoint {
        Checkpoint { seq, hash: hash.to_string(), at_ms, mac: checkpoint_mac(key, seq, hash, at_ms, prev_mac) }
    }

    pub fn line(&self) -> String {
        format!("v1\t{}\t{}\t{}\t{}", self.seq, self.hash, self.at_ms, self.mac)
    }

    pub fn parse(line: &str) -> Option<Checkpoint> {
        let mut f = line.trim_end().split('\t');
        if f.next()? != "v1" {
            return None;
        }
        let c = Checkpoint {
            seq: f.next()?.parse().ok()?,
            hash: f.next()?.to_string(),
            at_ms: f.next()?.parse().ok()?,
            mac: f.next()?.to_string(),
        };
        f.next().is_none().then_some(c)
    }

    /// Whether this line is signed by `key` and follows the line whose mac is `prev_mac`.
    pub fn verifies(&self, key: &[u8], prev_mac: &str) -> bool {
        let want = checkpoint_mac(key, self.seq, &self.hash, self.at_ms, prev_mac);
        crate::crypto::ct_eq(want.as_bytes(), self.mac.as_bytes())
    }
}

#[cfg(test)]
mod checkpoint_tests {
    use super::*;

    #[test]
    fn checkpoints_sign_chain_and_parse() {
        let key = [9u8; 32];
        let a = Checkpoint::sign(&key, 10, "aa", 1_000, GENESIS_HASH);
        let b = Checkpoint::sign(&key, 12, "bb", 2_000, &a.mac);
        assert_eq!(Checkpoint::parse(&b.line()), Some(b.clone()));
        assert!(a.verifies(&key, GENESIS_HASH) && b.verifies(&key, &a.mac));
        // Another key, a moved head or a dropped line do not verify.
        assert!(!b.verifies(&[8u8; 32], &a.mac));
        assert!(!Checkpoint { seq: 11, ..b.clone() }.verifies(&key, &a.mac));
        assert!(!b.verifies(&key, GENESIS_HASH));
        assert_eq!(Checkpoint::parse("v1\t1\tx"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_string();
        let mut v = vec![];
        for seq in 1..=n {
            let e = AuditEntry::new("user.login", "user", &format!("u{seq}")).by("u1", "张三").from_ip("127.0.0.1");
            let r = seal(seq, datetime!(2026-11-27 12:00:00.123456 UTC), e, &prev);
            prev = r.hash.clone();
            v.push(r);
        }
        v
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        let mut v = ChainVerifier::default();
        for r in &c {
            v.check(r).unwrap();
        }
        assert_eq!(v.finish(5, &c[4].hash), Ok(5));
        assert_eq!(c[0].hash.len(), 64);
    }

    #[test]
    fn tampering_names_the_record() {
        let mut c = chain(5);
        c[2].entry.detail = "改过".into();
        let mut v = ChainVerifier::default();
        let err = c.iter().try_for_each(|r| v.check(r)).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.to_string().contains("被篡改"));
    }

    #[test]
    fn deletion_is_detected() {
        let mut c = chain(5);
        c.remove(1);
        let mut v = ChainVerifier::default();
        assert_eq!(c.iter().try_for_each(|r| v.check(r)).unwrap_err().seq, 3);
        let c = chain(5);
        let mut v = ChainVerifier::default();
        c[..4].iter().for_each(|r| v.check(r).unwrap());
        assert!(v.finish(5, &c[4].hash).is_err());
    }

    #[test]
    fn sm3_standard_vector() {
        // GB/T 32905-2016 appendix A example 1: "abc".
        assert_eq!(sm3_hex(b"abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    }
}
