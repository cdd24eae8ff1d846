//! Accounts, permissions and data scopes — the rules, not the storage.
//!
//! Security baseline is 等保 2.0 level 3 (GB/T 22239-2019): unique accounts, password
//! complexity, lockout after repeated failures, idle session timeout.

pub mod password;

use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};

/// One permission a route or action can require. The catalogue is the single list of what
/// exists; roles in config may only name permissions found here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermissionDef {
    pub code: &'static str,
    pub name: &'static str,
    pub group: &'static str,
}

macro_rules! permissions {
    ($($konst:ident = $code:literal, $name:literal, $group:literal;)*) => {
        pub mod perm {
            $(pub const $konst: &str = $code;)*
        }
        pub const PERMISSIONS: &[PermissionDef] = &[
            $(PermissionDef { code: $code, name: $name, group: $group },)*
        ];
    };
}

permissions! {
    ADMIN_USERS = "admin.users", "用户管理", "系统管理";
    ADMIN_ROLES = "admin.roles", "角色与权限管理", "系统管理";
    ADMIN_DEPARTMENTS = "admin.departments", "部门管理", "系统管理";
    ADMIN_TOKENS = "admin.tokens", "接口令牌管理", "系统管理";
    ADMIN_HOLIDAYS = "admin.holidays", "节假日安排管理", "系统管理";
    ADMIN_SYSTEM = "admin.system", "系统运行状态", "系统管理";
    ADMIN_SERVICES = "admin.services", "一键申报事项目录管理（编辑材料和时限、暂停和恢复受理）", "系统管理";
    AUDIT_READ = "audit.read", "审计日志查询", "安全审计";
    AUDIT_EXPORT = "audit.export", "审计日志导出", "安全审计";
    ORG_DIVISIONS = "org.divisions", "区划与网格查询", "组织机构";
    ORG_GRIDS_MANAGE = "org.grids.manage", "网格维护", "组织机构";
    ORG_ENTERPRISES = "org.enterprises", "市场主体查询", "市场主体";
    ORG_ENTERPRISES_EXPORT = "org.enterprises.export", "市场主体导出", "市场主体";
    ORG_CITIZENS = "org.citizens", "群众信息查询", "群众";
    ORG_CITIZENS_SENSITIVE = "org.citizens.sensitive", "查看完整证件号码", "群众";
    DASHBOARD_CITY = "dashboard.city", "全市营商环境概览", "领导驾驶舱";
    WORKFLOW_ACT = "workflow.act", "审批办理", "审批";
    WORKFLOW_APPLY = "workflow.apply", "提交申请", "审批";
    WORKFLOW_STATS = "workflow.stats", "办件统计", "审批";
    ALERTS_VIEW = "alerts.view", "预警查询", "预警";
    ALERTS_HANDLE = "alerts.handle", "预警处置", "预警";
    ALERTS_RUN = "alerts.run", "运行预警评估", "预警";
    SCORES_VIEW = "scores.view", "风险评分查询", "评分";
    SCORES_RECORD = "scores.record", "记录评分事件", "评分";
    WAGES_VIEW = "wages.view", "在建项目与工资支付监测查询", "满薪满益";
    WAGES_IMPORT = "wages.import", "工资监测数据导入（文件与接口）", "满薪满益";
    WAGES_FEED_BANK = "wages.feed.bank", "银行推送工资代发流水、保证金和专户入账（接口）", "满薪满益";
    WAGES_CONTRACT = "wages.contract", "与工人签订电子劳动合同（用人单位）", "满薪满益";
    WAGES_DEPOSIT_REVIEW = "wages.deposit.review", "工资保证金返还审核（属地人社部门）", "满薪满益";
    WAGES_COMPLAINTS = "wages.complaints", "欠薪投诉办理（属地人社部门）", "满薪满益";
    LABOR_VIEW = "labor.view", "劳动关系网格监测查询", "劳动关系";
    LABOR_MANAGE = "labor.manage", "用人单位网格维护与核实", "劳动关系";
    TALENT_VIEW = "talent.view", "人才画像查询", "人才";
    SUPERVISION_VIEW = "supervision.view", "监管对象、位置与报警查询（本机关案件）", "亳安码";
    SUPERVISION_HANDLE = "supervision.handle", "登记监管对象、设置电子围栏、绑定设备、处置报警", "亳安码";
    SUPERVISION_SELF = "supervision.self", "本人定位上报（亳安码 App）", "亳安码";
    SUPERVISION_INGEST = "supervision.ingest", "定位数据对接（手环、定位平台批量上报）", "亳安码";
    SERVICES_STABILITY = "services.stability", "稳岗返还免申即享识别与核定（主管部门）", "一键申报";
    EXCHANGE_VIEW = "exchange.view", "共享数据目录、调用日志与统计", "一键申报";
    EXCHANGE_PUSH = "exchange.push", "共享数据推送（数据源部门系统）", "一键申报";
    SELF_ENTERPRISE = "self.enterprise", "本企业信息", "企业服务";
    SELF_CITIZEN = "self.citizen", "个人信息", "个人服务";
}

pub fn permission(code: &str) -> Option<&'static PermissionDef> {
    PERMISSIONS.iter().find(|p| p.code == code)
}

crate::coded! {
    /// How far a role's permissions reach (数据范围). Ordered from narrowest to widest.
    #[derive(PartialOrd, Ord, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ScopeKind ("数据范围") {
        Own = ("own", "本人/本单位"),
        Grid = ("grid", "本网格"),
        Department = ("department", "本部门"),
        Division = ("division", "本辖区"),
        All = ("all", "全部"),
    }
}

crate::coded! {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum UserKind ("用户类型") {
        Staff = ("staff", "工作人员"),
        Enterprise = ("enterprise", "企业"),
        Citizen = ("citizen", "群众"),
        System = ("system", "对接系统"),
    }
}

crate::coded! {
    /// Whether an account may sign in.
    pub enum AccountStatus ("账号状态") {
        Active = ("active", "正常"),
        Disabled = ("disabled", "已停用"),
    }
}

/// A concrete scope, filled in from the user's own department, division or grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataScope {
    All,
    Division(crate::DivisionCode),
    Department(String),
    Grid(String),
    /// Only what belongs to the user: their enterprise (USCC), their own person (ID number),
    /// or records they created.
    Own,
    /// The role reaches further than the user's attributes allow (e.g. grid scope without a
    /// grid assigned): nothing is visible.
    Nothing,
}

/// Who is acting, with what they may do. Built once per request from the session or token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub kind: UserKind,
    pub login: String,
    pub display_name: String,
    pub department_id: Option<String>,
    pub division_code: Option<crate::DivisionCode>,
    pub grid_id: Option<String>,
    pub uscc: Option<String>,
    pub id_card_no: Option<String>,
    /// The department's config code (`rsj`), which workflow definitions name.
    pub department_code: Option<String>,
    pub role_codes: Vec<String>,
    pub role_names: Vec<String>,
    /// Permission → widest scope among the user's roles that grant it.
    pub grants: BTreeMap<String, ScopeKind>,
    /// Set after an administrator reset the password: only the password page is open.
    pub must_change_password: bool,
}

impl Principal {
    pub fn can(&self, perm: &str) -> bool {
        self.grants.contains_key(perm)
    }

    /// The data this user may see under `perm`; `None` when the permission is not granted.
    pub fn scope(&self, perm: &str) -> Option<DataScope> {
        let kind = *self.grants.get(perm)?;
        Some(match kind {
            ScopeKind::All => DataScope::All,
            ScopeKind::Division => match &self.division_code {
                Some(d) => DataScope::Division(d.clone()),
                None => DataScope::Nothing,
            },
            ScopeKind::Department => match &self.department_id {
                Some(d) => DataScope::Department(d.clone()),
                None => DataScope::Nothing,
            },
            ScopeKind::Grid => match &self.grid_id {
                Some(g) => DataScope::Grid(g.clone()),
                None => DataScope::Nothing,
            },
            ScopeKind::Own => DataScope::Own,
        })
    }

    /// Merges roles: (role permissions, role scope) pairs into the widest grant per permission.
    pub fn grants_from<'a>(roles: impl IntoIterator<Item = (&'a [String], ScopeKind)>) -> BTreeMap<String, ScopeKind> {
        let mut grants: BTreeMap<String, ScopeKind> = BTreeMap::new();
        for (perms, scope) in roles {
            for p in perms {
                let e = grants.entry(p.clone()).or_insert(scope);
                if scope > *e {
                    *e = scope;
                }
            }
        }
        grants
    }
}

/// Lockout rule: after `max_failures` consecutive failures the account is locked for
/// `lock_for`. Both come from config; defaults are 5 and 5 minutes.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub lock_for: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy { max_failures: 5, lock_for: Duration::minutes(5) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginAttempts {
    pub failures: u32,
    pub locked_until: Option<OffsetDateTime>,
}

impl LoginAttempts {
    pub fn is_locked(&self, now: OffsetDateTime) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }

    /// State after a failed attempt. A lock that has run out starts a fresh count.
    pub fn after_failure(self, now: OffsetDateTime, policy: LockoutPolicy) -> LoginAttempts {
        let failures = if self.locked_until.is_some_and(|t| now >= t) { 1 } else { self.failures + 1 };
        if failures >= policy.max_failures {
            LoginAttempts { failures, locked_until: Some(now + policy.lock_for) }
        } else {
            LoginAttempts { failures, locked_until: None }
        }
    }

    pub fn after_success(self) -> LoginAttempts {
        LoginAttempts::default()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy { idle: Duration::minutes(30), absolute: Duration::hours(12) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Active,
    IdleTimeout,
    Expired,
}

impl SessionPolicy {
    pub fn state(&self, created: OffsetDateTime, last_seen: OffsetDateTime, now: OffsetDateTime) -> SessionState {
        if now - created >= self.absolute {
            SessionState::Expired
        } else if now - last_seen >= self.idle {
            SessionState::IdleTimeout
        } else {
            SessionState::Active
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn five_failures_lock_for_five_minutes() {
        let p = LockoutPolicy::default();
        let t0 = datetime!(2026-01-01 08:00 UTC);
        let mut a = LoginAttempts::default();
        for i in 1..=4 {
            a = a.after_failure(t0, p);
            assert_eq!(a.failures, i);
            assert!(!a.is_locked(t0));
        }
        a = a.after_failure(t0, p);
        assert!(a.is_locked(t0 + Duration::minutes(4)));
        assert!(!a.is_locked(t0 + Duration::minutes(5)));
        // After the lock ran out, one more failure does not lock again at once.
        let b = a.after_failure(t0 + Duration::minutes(6), p);
        assert_eq!(b.failures, 1);
        assert!(!b.is_locked(t0 + Duration::minutes(6)));
    }

    #[test]
    fn sessions_time_out_when_idle() {
        let p = SessionPolicy::default();
        let t0 = datetime!(2026-01-01 08:00 UTC);
        assert_eq!(p.state(t0, t0, t0 + Duration::minutes(29)), SessionState::Active);
        assert_eq!(p.state(t0, t0, t0 + Duration::minutes(30)), SessionState::IdleTimeout);
        let late = t0 + Duration::hours(12);
        assert_eq!(p.state(t0, late - Duration::minutes(1), late), SessionState::Expired);
    }

    #[test]
    fn widest_scope_wins_and_scope_needs_attributes() {
        let a = vec!["org.enterprises".to_string()];
        let b = vec!["org.enterprises".to_string(), "audit.read".to_string()];
        let grants = Principal::grants_from([(a.as_slice(), ScopeKind::Grid), (b.as_slice(), ScopeKind::Division)]);
        assert_eq!(grants["org.enterprises"], ScopeKind::Division);
        let p = Principal {
            user_id: "u".into(),
            kind: UserKind::Staff,
            login: "x".into(),
            display_name: "x".into(),
            department_id: None,
            division_code: None,
            grid_id: None,
            uscc: None,
            id_card_no: None,
            department_code: None,
            role_codes: vec![],
            role_names: vec![],
            grants,
            must_change_password: false,
        };
        assert_eq!(p.scope("org.enterprises"), Some(DataScope::Nothing));
        assert_eq!(p.scope("admin.users"), None);
    }

    #[test]
    fn permission_codes_are_unique() {
        let mut codes: Vec<_> = PERMISSIONS.iter().map(|p| p.code).collect();
        codes.sort();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n);
        assert_eq!(permission(perm::AUDIT_READ).unwrap().name, "审计日志查询");
    }
}
