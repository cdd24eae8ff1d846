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

crate::coded! {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Outcome ("审计结果") {
        Success = ("success", "成功"),
        Failure = ("failure", "失败"),
        Denied = ("denied", "拒绝"),
    }
}

/// An action the audit log records: the code stored in the chain and the Chinese the auditor
/// reads. Declared with [`audit_actions!`], which will not compile without a label.
pub trait Action: Copy + 'static {
    fn code(self) -> &'static str;
    fn label(self) -> &'static str;
}

/// Declares an enum of audit actions, each with its stored code and required Chinese label, plus
/// `ALL`, `LABELS` (code, label) for the audit page and `from_code`.
#[macro_export]
macro_rules! audit_actions {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($(#[$vm:meta])* $v:ident = ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name { $($(#[$vm])* $v),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            pub const LABELS: &'static [(&'static str, &'static str)] = &[$(($code, $label)),+];
            pub fn from_code(code: &str) -> Option<$name> {
                match code { $($code => Some($name::$v),)+ _ => None }
            }
        }
        impl $crate::audit::Action for $name {
            fn code(self) -> &'static str { match self { $($name::$v => $code),+ } }
            fn label(self) -> &'static str { match self { $($name::$v => $label),+ } }
        }
    };
}

audit_actions! {
    /// Actions of the shell and the shared services: sign-in, accounts, organisation, audit.
    pub enum CoreAudit {
        Login = ("auth.login", "登录"),
        Logout = ("auth.logout", "退出"),
        SessionTimeout = ("auth.session_timeout", "会话超时"),
        TokenRejected = ("auth.token_rejected", "接口令牌被拒"),
        AccessDenied = ("access.denied", "越权访问被拒"),
        CsrfRejected = ("security.csrf_rejected", "表单校验失败（CSRF）"),
        UserCreate = ("user.create", "新建用户"),
        UserUpdate = ("user.update", "修改用户"),
        PasswordChange = ("user.password_change", "修改密码"),
        PasswordReset = ("user.password_reset", "重置密码"),
        UserEnable = ("user.enable", "启用账号"),
        UserDisable = ("user.disable", "停用账号"),
        UserUnlock = ("user.unlock", "解除锁定"),
        UserExport = ("user.export", "导出用户"),
        RoleCreate = ("role.create", "新建角色"),
        RoleUpdate = ("role.update", "修改角色"),
        DepartmentCreate = ("department.create", "新建部门"),
        DepartmentUpdate = ("department.update", "修改部门"),
        TokenCreate = ("token.create", "签发接口令牌"),
        TokenRevoke = ("token.revoke", "吊销接口令牌"),
        HolidayLoad = ("holiday.load", "导入节假日表"),
        GridUpdate = ("grid.update", "维护网格"),
        PersonView = ("person.view", "查看群众信息"),
        PersonRevealId = ("person.reveal_id", "查看完整证件号"),
        PersonSearch = ("person.search", "按证件号查询"),
        EnterprisesExport = ("org.enterprises.export", "导出市场主体"),
        AuditExport = ("audit.export", "导出审计日志"),
        AuditVerify = ("audit.verify", "校验审计链"),
        DemoLoad = ("demo.load", "加载演示数据"),
        ConfigSync = ("config.sync", "同步配置"),
        SealCreate = ("seal.create", "生成电子印章"),
        DocumentIssue = ("gov_document.issue", "出具盖章公文（告知函、整改通知单）"),
        SignerCreate = ("signer.create", "生成签名密钥"),
        ScoreView = ("score.view", "查看风险评分"),
        ScoreEvent = ("score.event", "记录评分事件"),
        LogRetention = ("log.retention", "按保留期限删除日志"),
    }
}

/// Object types of the shell's records, in Chinese.
pub const CORE_OBJECTS: &[(&str, &str)] = &[
    ("user", "用户"),
    ("login", "登录账号"),
    ("route", "页面/接口"),
    ("api_token", "接口令牌"),
    ("role", "角色"),
    ("department", "部门"),
    ("holiday_table", "节假日表"),
    ("grid", "网格"),
    ("citizen", "群众"),
    ("enterprise", "市场主体"),
    ("audit_log", "审计日志"),
    ("city", "城市"),
    ("config", "配置"),
    ("seal", "电子印章"),
    ("document", "出具的文书"),
    ("signer_key", "签名密钥"),
    ("person", "人员"),
    ("score", "风险评分"),
    ("audit_checkpoints", "审计链检查点"),
];

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
    pub fn new(action: impl Action, object_type: &str, object_id: &str) -> Self {
        AuditEntry {
            actor_id: "system".into(),
            actor_name: "系统".into(),
            action: action.code().into(),
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
    /// A verifier for a chain whose records up to `seq` (ending in `hash`) were dropped by
    /// retention: the first record kept must follow on from them.
    pub fn after(seq: i64, hash: &str) -> ChainVerifier {
        if seq == 0 {
            return ChainVerifier::default();
        }
        ChainVerifier { prev_hash: hash.to_string(), next_seq: seq + 1, checked: 0 }
    }

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
            let e = AuditEntry::new(CoreAudit::Login, "user", &format!("u{seq}")).by("u1", "张三").from_ip("127.0.0.1");
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
