//! Chinese names for the codes stored in the audit log, so the auditor reads 登录, not
//! `auth.login`. Case modules add their actions here.

const ACTIONS: &[(&str, &str)] = &[
    ("auth.login", "登录"),
    ("auth.logout", "退出"),
    ("auth.session_timeout", "会话超时"),
    ("auth.token_rejected", "接口令牌被拒"),
    ("access.denied", "越权访问被拒"),
    ("security.csrf_rejected", "表单校验失败（CSRF）"),
    ("user.create", "新建用户"),
    ("user.update", "修改用户"),
    ("user.password_change", "修改密码"),
    ("user.password_reset", "重置密码"),
    ("user.enable", "启用账号"),
    ("user.disable", "停用账号"),
    ("user.unlock", "解除锁定"),
    ("user.export", "导出用户"),
    ("role.create", "新建角色"),
    ("role.update", "修改角色"),
    ("department.create", "新建部门"),
    ("department.update", "修改部门"),
    ("token.create", "签发接口令牌"),
    ("score.view", "查看风险评分"),
    ("license.view", "查看电子证照"),
    ("license.verify", "核验电子证照"),
    ("token.revoke", "吊销接口令牌"),
    ("holiday.load", "导入节假日表"),
    ("grid.update", "维护网格"),
    ("person.view", "查看群众信息"),
    ("person.reveal_id", "查看完整证件号"),
    ("person.search", "按证件号查询"),
    ("org.enterprises.export", "导出市场主体"),
    ("audit.export", "导出审计日志"),
    ("audit.verify", "校验审计链"),
    ("demo.load", "加载演示数据"),
    ("config.sync", "同步配置"),
    // Workflow: transitions are `workflow.<record action>`.
    ("workflow.start", "提交申请"),
    ("workflow.submit", "提交申请"),
    ("workflow.approve", "审批同意"),
    ("workflow.reject", "审批驳回"),
    ("workflow.return", "退回补正（一次性告知）"),
    ("workflow.resubmit", "补正后重新提交"),
    ("workflow.withdraw", "撤回申请"),
    ("workflow.transfer", "转办"),
    ("workflow.comment", "记录意见"),
    ("workflow.tolerate", "容缺受理"),
    ("workflow.supply", "补交容缺材料"),
    ("workflow.timeout", "办理时限到期"),
    ("workflow.deemed_approved", "超时默认同意"),
    ("workflow.auto_reject", "超时自动驳回"),
    ("workflow.escalate", "超时上报"),
    ("workflow.overdue", "超期提醒"),
    ("workflow.tolerance_due", "容缺补交期限到期"),
    ("workflow.tolerance_overdue", "容缺材料逾期未交"),
    ("workflow.export", "导出办件"),
    // Alerts and scores.
    ("alerts.run", "评估预警指标"),
    ("alert.acknowledge", "签收预警"),
    ("alert.dispose", "发出整改文书"),
    ("alert.verify", "核查通过"),
    ("alert.verify_failed", "核查未通过"),
    ("alert.close", "预警销号"),
    ("alert.escalate", "预警上报"),
    ("wages.import", "工资监测数据导入"),
    ("wages.view", "查看在建项目"),
    ("wages.export", "导出在建项目"),
    ("alert.export", "导出预警"),
    ("score.event", "记录评分事件"),
];

const OBJECTS: &[(&str, &str)] = &[
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
    ("application", "申请"),
    ("stats", "办件统计"),
    ("alert", "预警"),
    ("indicators", "预警指标"),
    ("employer", "用人单位"),
    ("project", "工程项目"),
    ("person", "人员"),
];

fn find(table: &[(&str, &'static str)], code: &str) -> Option<&'static str> {
    table.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

pub fn action(code: &str) -> String {
    find(ACTIONS, code).map(str::to_string).unwrap_or_else(|| code.to_string())
}

pub fn object(code: &str) -> String {
    find(OBJECTS, code).map(str::to_string).unwrap_or_else(|| code.to_string())
}

/// Long ids shortened for tables; the full value goes into a `title`.
pub fn short(id: &str) -> String {
    if id.chars().count() > 14 { format!("{}…", id.chars().take(12).collect::<String>()) } else { id.to_string() }
}
