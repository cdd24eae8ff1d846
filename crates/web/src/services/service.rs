//! The use cases of 一键申报 that pages and API share, so that both apply the same rules, give
//! the same errors and audit the same way.

use crate::access::RequestCtx;
use crate::error::AppError;
use domain::auth::{DataScope, Principal, UserKind, perm};
use store::config::CityConfig;
use store::config::services::{Item, Subject};
use store::services::{self as svc, SvcApp};

/// Who applies for `code` in `ctx`'s name: the item, and the applying subject's identifier
/// (USCC or ID number) and name. An account that may not apply, an unknown item or the wrong
/// kind of account for the item is refused the same way from the page and the API.
pub fn applicant<'c>(
    ctx: &RequestCtx,
    cfg: &'c CityConfig,
    code: &str,
) -> Result<(&'c Item, String, String), AppError> {
    let p = ctx.user()?;
    if !p.can(perm::WORKFLOW_APPLY) {
        return Err(AppError::Forbidden("您的账号不能申报事项".into()));
    }
    let item = cfg.services.item(code).ok_or_else(|| AppError::NotFound(format!("事项“{code}”")))?;
    if item.proactive {
        return Err(AppError::invalid(
            "item",
            format!("“{}”免申即享，无需申请：符合条件的由主管部门直接核定", item.name),
        ));
    }
    let (subject, name) = subject_of(p, item).map_err(AppError::Forbidden)?;
    Ok((item, subject, name))
}

pub fn subject_of(p: &Principal, item: &Item) -> Result<(String, String), String> {
    match (item.subject, p.kind) {
        (Subject::Enterprise, UserKind::Enterprise) => {
            p.uscc.clone().map(|u| (u, p.display_name.clone())).ok_or_else(|| "账号没有统一社会信用代码".into())
        }
        (Subject::Person, UserKind::Citizen) => {
            p.id_card_no.clone().map(|c| (c, p.display_name.clone())).ok_or_else(|| "账号没有公民身份号码".into())
        }
        (Subject::Enterprise, _) => Err("本事项由企业以统一社会信用代码登录后申报".into()),
        (Subject::Person, _) => Err("本事项由群众以身份证号登录后申报".into()),
    }
}

/// The application if the user may see it: the applicant, staff of the item's department,
/// of a department asked to verify, or with city-wide scope. Refusals are audited.
pub async fn application(ctx: &RequestCtx, id: &str) -> Result<(SvcApp, bool), AppError> {
    let p = ctx.user()?;
    let mut conn = ctx.state.db.reader().acquire().await.map_err(store::StoreError::from)?;
    let app = svc::get(&mut conn, id).await?;
    drop(conn);
    let staff = p.can(perm::WORKFLOW_ACT);
    let reviewer = staff && p.department_code.as_deref() == Some(app.department.as_str());
    let ok = p.user_id == app.applicant_id
        || reviewer
        || (staff && p.scope(perm::WORKFLOW_ACT) == Some(DataScope::All))
        || (staff
            && svc::xrequests::of_application(&ctx.state.db, id)
                .await?
                .iter()
                .any(|x| p.department_code.as_deref() == Some(x.to_dept.as_str())));
    if !ok {
        return Err(ctx.forbid("application", id, "无权查看该申请", "您无权查看该申请").await);
    }
    Ok((app, reviewer))
}
