//! What is done on an application once it is in: the reviewer's decision through the workflow
//! engine (with the 补正材料通知书 of a return), the applicant's supply of a tolerated material
//! and resubmission, and settling the row with its instance — issuing the result and archiving
//! the case.

use super::*;
/// A reviewer's decision.
pub enum Decision {
    Approve {
        comment: String,
    },
    /// 一次性告知: every deficiency at once, by material id.
    Return {
        items: Vec<(String, String)>,
    },
    Reject {
        reason: String,
        text: String,
    },
    /// 容缺受理: a deferrable material follows by `due` under the applicant's written
    /// commitment; the result is issued when it has come.
    Tolerate {
        material: String,
        due: time::Date,
        commitment: String,
    },
    /// 行政许可法 art. 42 ¶1: the limit extended once, by up to ten working days.
    Extend {
        days: u32,
        approver: String,
        reason: String,
    },
    /// 行政许可法 art. 45: a hearing, inspection … not counted in the limit.
    Exclude {
        kind: domain::workflow::ExclusionKind,
        days: u32,
        note: String,
    },
    Resume {
        note: String,
    },
}

/// Applies a reviewer's decision through the workflow engine; an approval issues the result
/// (an e-license or a sealed document) and archives the case, a rejection archives it.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    conn: &mut Conn,
    rt: &Runtime<'_>,
    now: OffsetDateTime,
    key: &MasterKey,
    id: &str,
    reviewer: &Actor,
    d: Decision,
    ip: &str,
) -> Result<SvcApp> {
    let cfg = rt.cfg;
    let wf_app = workflow::load(conn, cfg, id).await?;
    let task = wf_app
        .instance
        .tasks
        .iter()
        .find(|t| t.status == domain::workflow::TaskStatus::Open)
        .map(|t| t.no)
        .ok_or_else(|| StoreError::conflict("action", "该申请当前没有待办环节"))?;
    let action = match d {
        Decision::Approve { comment } => Action::Approve { comment, received: vec![] },
        Decision::Return { items } => {
            Action::Return { items: items.into_iter().map(|(target, note)| Deficiency { target, note }).collect() }
        }
        Decision::Reject { reason, text } => Action::Reject { reason, text },
        Decision::Tolerate { material, due, commitment } => {
            Action::Tolerate { material, due, note: String::new(), commitment }
        }
        Decision::Extend { days, approver, reason } => Action::Extend { days, approver, reason },
        Decision::Exclude { kind, days, note } => Action::Exclude { kind, days, note },
        Decision::Resume { note } => Action::Resume { note },
    };
    let returned = matches!(action, Action::Return { .. });
    let after = workflow::handle(conn, rt, id, Event::Act { task, actor: reviewer.clone(), action }, ip, now).await?;
    if returned {
        sqlx::query("UPDATE svc_applications SET returns = returns + 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        let app = get(conn, id).await?;
        if let Some(n) = after.instance.notices.last() {
            one_time_notice(conn, now, cfg, key, &app, n, after.instance.notices.len()).await?;
        }
    }
    settle(conn, cfg, now, Some(key), id, reviewer).await
}

/// The 一次性告知 as a registered document of the item's department (行政许可法 art. 32 ¶1(4):
/// everything to be corrected, told at once), numbered, sealed and printable; the `n`-th notice
/// of the application.
async fn one_time_notice(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    key: &MasterKey,
    app: &SvcApp,
    notice: &domain::workflow::Notice,
    n: usize,
) -> Result<crate::documents::Issued> {
    let item = item_of_app(cfg, app)?;
    let target = |t: &str| {
        item.material(t)
            .map(|m| m.name.clone())
            .or_else(|| item.fields().find(|(_, f)| f.key == t).map(|(_, f)| f.label.clone()))
            .unwrap_or_else(|| t.to_string())
    };
    let mut paragraphs = vec![format!(
        "你（单位）于 {} 提交的“{}”申请（办件编号 {}），经审查，申请材料不齐全或者不符合法定形式。依据《中华人民共和国行政许可法》第三十二条第一款第四项，现一次告知需要补正的全部内容：",
        domain::clock::format_minute(domain::clock::from_millis(app.submitted_at)),
        item.name,
        app.case_no.clone().unwrap_or_else(|| "—".into())
    )];
    for (i, d) in notice.items.iter().enumerate() {
        paragraphs.push(format!("{}. {}：{}", i + 1, target(&d.target), d.note));
    }
    paragraphs.push(
        "请按上述要求补正后，通过本平台重新提交。补正的材料齐全、符合法定形式的，本机关自收到补正材料之日起受理。"
            .into(),
    );
    crate::documents::issue(
        conn,
        now,
        cfg,
        key,
        crate::documents::Draft {
            kind: "one_time_notice",
            word: "补",
            title: "补正材料通知书（一次性告知）",
            department: &app.department,
            addressee: app.subject_name.clone(),
            addressee_id: Some(app.subject.clone()),
            paragraphs,
            source: format!("notice:{}:{n}", app.id),
        },
    )
    .await
}

/// The applicant supplies a material accepted under 容缺 (an upload for an upload material);
/// when it was the last awaited one the application is decided and its result issued.
#[allow(clippy::too_many_arguments)]
pub async fn supply(
    conn: &mut Conn,
    rt: &Runtime<'_>,
    now: OffsetDateTime,
    key: &MasterKey,
    id: &str,
    who: &Actor,
    material: &str,
    uploads: &[Upload],
    ip: &str,
) -> Result<SvcApp> {
    let app = get(conn, id).await?;
    if app.applicant_id != who.user_id {
        return Err(StoreError::Forbidden("只有申请人本人可以补交材料".into()));
    }
    let item = item_of_app(rt.cfg, &app)?;
    let m = item.material(material).ok_or_else(|| StoreError::invalid("material", "请选择要补交的材料"))?;
    let files: Vec<Upload> =
        uploads.iter().filter(|u| u.material == material && !u.bytes.is_empty()).cloned().collect();
    if m.kind == MaterialKind::Upload && files.is_empty() {
        return Err(StoreError::invalid("material", format!("请上传“{}”", m.name)));
    }
    for u in &files {
        let meta = UploadMeta { material: &u.material, filename: &u.filename, size: u.bytes.len() };
        domain::services::rules::check_upload(m, &meta).map_err(|e| StoreError::invalid("material", e))?;
    }
    workflow::handle(conn, rt, id, Event::SupplyMaterial { actor: who.clone(), material: material.into() }, ip, now)
        .await?;
    store_uploads(conn, now, id, &files).await?;
    let by =
        Actor {
            user_id: "system".into(), name: "系统（容缺材料补齐后办结）".into(), department: None, roles: vec![]
        };
    settle(conn, rt.cfg, now, Some(key), id, &by).await
}

/// After a workflow timer fired for `id`: if it is a one-click application, its row follows
/// (a tolerated material past its date refuses it).
pub async fn settle_if_service(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    key: Option<&MasterKey>,
    id: &str,
) -> Result<()> {
    let exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM svc_applications WHERE id = $1").bind(id).fetch_optional(&mut *conn).await?;
    if exists.is_some() {
        let by = Actor { user_id: "system".into(), name: "系统".into(), department: None, roles: vec![] };
        settle(conn, cfg, now, key, id, &by).await?;
    }
    Ok(())
}

/// Brings the application's row in step with its workflow instance after a decision, a
/// supplied material or a timer: on approval the result is issued, sealed and archived and the
/// applicant told; on refusal the case is archived. Idempotent.
pub async fn settle(
    conn: &mut Conn,
    cfg: &CityConfig,
    now: OffsetDateTime,
    key: Option<&MasterKey>,
    id: &str,
    by: &Actor,
) -> Result<SvcApp> {
    let before = get(conn, id).await?;
    let status = workflow::load(conn, cfg, id).await?.instance.status;
    if status == before.status {
        return Ok(before);
    }
    sqlx::query("UPDATE svc_applications SET status = $1, decided_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(status.is_final().then(|| to_millis(now)))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let mut app = get(conn, id).await?;
    let reviewer = by;
    if status == Status::Approved {
        let key = key.ok_or_else(|| StoreError::Other("印章主密钥未加载，不能签发办理结果".into()))?;
        let item = item_of_app(cfg, &app)?;
        let lic = issue_result(conn, now, cfg, key, item, &app, reviewer).await?;
        sqlx::query("UPDATE svc_applications SET result_number = $1 WHERE id = $2")
            .bind(&lic.number)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        app.result_number = Some(lic.number.clone());
        archive(conn, now, &app, Some(&lic)).await?;
        crate::notify::send(
            conn,
            now,
            &crate::notify::To::User(app.applicant_id.clone()),
            &format!("/services/applications/{id}"),
            &format!("【{}】已办结，{}编号 {}", item.name, lic.title, lic.number),
        )
        .await?;
    } else if status == Status::Rejected {
        archive(conn, now, &app, None).await?;
    }
    Ok(app)
}

async fn issue_result(
    conn: &mut Conn,
    now: OffsetDateTime,
    cfg: &CityConfig,
    key: &MasterKey,
    item: &Item,
    app: &SvcApp,
    reviewer: &Actor,
) -> Result<License> {
    let label = |k: &str| item.fields().find(|(_, f)| f.key == k).map(|(_, f)| f.label.clone()).unwrap_or(k.into());
    let (type_code, title, valid_years, keys): (Option<&str>, String, u32, Vec<String>) =
        match (&item.result_license, &item.result_document) {
            (Some(t), _) => {
                let lt = cfg.services.license_type(t).ok_or_else(|| StoreError::NotFound(format!("证照类型“{t}”")))?;
                (Some(t.as_str()), lt.name.clone(), lt.valid_years, lt.fields.clone())
            }
            (None, d) => (
                None,
                d.clone().unwrap_or_else(|| "办理结果".into()),
                0,
                item.fields().filter(|(_, f)| f.ty != FieldType::Consent).map(|(_, f)| f.key.clone()).collect(),
            ),
        };
    let mut fields: Vec<(String, String)> =
        keys.iter().map(|k| (label(k), app.form.get(k).cloned().unwrap_or_default())).collect();
    if type_code.is_none() {
        fields.insert(0, ("办理事项".into(), item.name.clone()));
    }
    let new = licenses::NewLicense {
        type_code,
        title: &title,
        issuer: &item.department,
        holder: (&app.subject, &app.subject_name),
        holder_kind: if item.subject == Subject::Enterprise { "法人" } else { "自然人" },
        valid_years,
        fields,
        application: Some(&app.id),
    };
    licenses::issue(conn, now, cfg, key, &new, (&reviewer.user_id, &reviewer.name)).await
}

/// 电子档案: the application's materials and result with the SM3 of the canonical manifest.
async fn archive(conn: &mut Conn, now: OffsetDateTime, app: &SvcApp, result: Option<&License>) -> Result<()> {
    let ups = sqlx::query("SELECT material, filename, size, sm3 FROM svc_uploads WHERE application_id = $1")
        .bind(&app.id)
        .fetch_all(&mut *conn)
        .await?;
    let uploads: Vec<serde_json::Value> = ups
        .iter()
        .map(|r| {
            serde_json::json!({
                "material": r.try_get::<String, _>("material").unwrap_or_default(),
                "filename": r.try_get::<String, _>("filename").unwrap_or_default(),
                "size": r.try_get::<i64, _>("size").unwrap_or_default(),
                "sm3": r.try_get::<String, _>("sm3").unwrap_or_default(),
            })
        })
        .collect();
    let signed = signatures::of_application(conn, &app.id).await?;
    let manifest = serde_json::json!({
        "application": app.id, "item": app.item, "subject": app.subject, "subject_name": app.subject_name,
        "status": app.status, "form": app.form, "sources": app.sources, "licenses": app.licenses, "uploads": uploads,
        "signatures": signed,
        "result": result.map(|l| serde_json::json!({ "number": l.number, "title": l.title, "digest": l.digest })),
    });
    let text = domain::crypto::canonical_json(&manifest);
    let digest = hex::encode(domain::crypto::sm3(text.as_bytes()));
    sqlx::query(
        "INSERT INTO svc_archive (application_id, archived_at, manifest, digest, subject, item, approved)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&app.id)
    .bind(to_millis(now))
    .bind(&text)
    .bind(&digest)
    .bind(&app.subject)
    .bind(&app.item)
    .bind(i64::from(result.is_some()))
    .execute(&mut *conn)
    .await?;
    audit::append(
        conn,
        now,
        AuditEntry::new(domain::services::ServicesAudit::Archive, "application", &app.id)
            .detail(format!("归档，SM3 {digest}")),
    )
    .await?;
    Ok(())
}

/// (archived_at, digest, manifest) of an archived application.
pub async fn archived(db: &Db, app: &str) -> Result<Option<(i64, String, String)>> {
    let r = sqlx::query("SELECT archived_at, digest, manifest FROM svc_archive WHERE application_id = $1")
        .bind(app)
        .fetch_optional(db.reader())
        .await?;
    r.map(|r| Ok((r.try_get("archived_at")?, r.try_get("digest")?, r.try_get("manifest")?))).transpose()
}

/// The applicant's corrections after a one-time notice: new typed values (and uploads); data
/// fields are retrieved again, so a source that was corrected meanwhile is picked up.
#[allow(clippy::too_many_arguments)]
pub async fn resubmit(
    conn: &mut Conn,
    rt: &Runtime<'_>,
    now: OffsetDateTime,
    id: &str,
    who: &Actor,
    typed: &BTreeMap<String, String>,
    uploads: &[Upload],
    ip: &str,
    master: Option<&MasterKey>,
) -> Result<SvcApp> {
    let cfg = rt.cfg;
    let app = get(conn, id).await?;
    if app.applicant_id != who.user_id {
        return Err(StoreError::Forbidden("只有申请人本人可以补正".into()));
    }
    if app.status != Status::Correcting {
        return Err(StoreError::conflict("status", "该申请不在补正状态"));
    }
    let item = item_of_app(cfg, &app)?;
    if let Some((k, msg)) = check_form(item, typed).into_iter().next() {
        return Err(StoreError::invalid(&k, msg));
    }
    signatures::need_key(item, master)?;
    let held = batch::subject_data(conn, &app.subject, now).await?;
    let batch::Assembled { form, lics, calls, .. } =
        batch::assemble(cfg, item, &held, typed, domain::clock::local(now).date())?;
    let rows = batch::call_rows(&calls, to_millis(now), who, &app.subject, id);
    crate::sql::insert_rows(conn, batch::CALL_INSERT, "", &rows).await?;
    let mut changed: Vec<String> = item
        .materials
        .iter()
        .filter(|m| {
            m.fields.iter().any(|f| form.get(&f.key) != app.form.get(&f.key))
                || lics.get(&m.id) != app.licenses.get(&m.id)
        })
        .map(|m| m.id.clone())
        .collect();
    for u in uploads.iter().filter(|u| !u.bytes.is_empty()) {
        if !changed.contains(&u.material) {
            changed.push(u.material.clone());
        }
    }
    let done = workflow::handle(conn, rt, id, Event::Resubmit { actor: who.clone(), changed }, ip, now).await?;
    store_uploads(conn, now, id, uploads).await?;
    sqlx::query("UPDATE svc_applications SET form = $1, licenses = $2, status = $3 WHERE id = $4")
        .bind(serde_json::to_string(&form).unwrap_or_default())
        .bind(serde_json::to_string(&lics).unwrap_or_default())
        .bind(done.instance.status.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    // The corrected application is signed again, as the next round.
    if let Some(master) = master {
        let round: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(round), -1) + 1 FROM svc_signatures WHERE application_id = $1")
                .bind(id)
                .fetch_one(&mut *conn)
                .await?;
        let sigs = signatures::sign(conn, now, master, item, &app.subject, &app.subject_name, &form, round).await?;
        crate::sql::insert_rows(conn, signatures::INSERT, "", &signatures::rows(id, &sigs)).await?;
    }
    get(conn, id).await
}
