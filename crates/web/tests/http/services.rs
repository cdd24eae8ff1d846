//! 一键申报 over HTTP: an enterprise applies for a one-click item with nothing to upload; the
//! reviewer's one-click verification shows the field the source disagrees with; a return with
//! a one-time notice; another department answers a cross-department verification request;
//! the corrected application is approved, and the e-license issued verifies — and fails with
//! one byte changed.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

/// The value of the input `f-{key}` on a page.
pub(crate) fn input_value(html: &str, key: &str) -> String {
    let at = html.find(&format!("id=\"f-{key}\"")).unwrap_or_else(|| panic!("no input {key}"));
    let rest = &html[at..];
    let v = rest.find("value=\"").expect("value") + 7;
    rest[v..].split('"').next().unwrap().replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", "\"")
}

pub(crate) async fn post_multipart(c: &Client, from: &str, path: &str, fields: &[(&str, String)]) -> Page {
    let token = c.get(from).await.csrf();
    let mut form = reqwest::multipart::Form::new().text("_csrf", token);
    for (k, v) in fields {
        form = form.text(k.to_string(), v.clone());
    }
    let r = c.http.post(format!("{}{path}", c.base)).multipart(form).send().await.unwrap();
    let (status, location) = (r.status(), r.headers().get("location").map(|v| v.to_str().unwrap().to_string()));
    Page { status, body: r.text().await.unwrap(), location, headers: Default::default() }
}

#[tokio::test]
async fn one_click_application_is_verified_returned_corrected_approved_and_its_license_verifies() {
    let app = spawn_app().await;
    let login = app.login_of("enterprise").await;
    let ent = app.login(&login).await;

    // The zone lists the item as one-click; the form opens prefilled from shared data.
    let zone = ent.get("/services").await;
    assert!(zone.body.contains("食品经营许可证延续") && zone.body.contains("一键申报"), "{}", zone.body);
    let item = "/services/items/SCJG-XK-001";
    let form = ent.get(item).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("已从“企业登记信息”预填"), "{}", form.body);
    assert!(form.body.contains("已关联营业执照"), "the business license satisfies its material");
    let (name, legal_rep, address) =
        (input_value(&form.body, "name"), input_value(&form.body, "legal_rep"), input_value(&form.body, "address"));
    assert!(!name.is_empty() && !legal_rep.is_empty());
    assert!(!form.body.contains("type=\"file\""), "nothing to upload");

    // A missing commitment is refused with a clear message; then the submission goes through.
    let mut fields = vec![
        ("f_name", name.clone()),
        ("f_legal_rep", legal_rep.clone()),
        ("f_address", address.clone()),
        ("f_business_items", "热食类食品制售".to_string()),
        ("f_contact_phone", "13955550000".to_string()),
    ];
    let r = post_multipart(&ent, item, item, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("请阅读并勾选《食品安全承诺书》"), "{}", r.body);
    fields.push(("f_commit", "同意".to_string()));
    let r = post_multipart(&ent, item, item, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = r.location.unwrap();
    let id = page.rsplit('/').next().unwrap().to_string();
    let mine = ent.get(&page).await.body;
    assert!(mine.contains("审核中") && mine.contains("一键申报"), "{mine}");

    // The registry corrects the legal representative after the application (the source and
    // the application now disagree on one field).
    let uscc = login.clone();
    let r = app
        .api()
        .post(format!("{}/api/v1/exchange/scjg.enterprise/records", app.base))
        .bearer_auth(app.token("scjg-sys"))
        .json(&json!({ "source": "安徽省市场主体登记系统", "records": [{ "subject": uscc, "data": {
            "name": name, "uscc": uscc, "legal_rep": "王更正", "address": address, "status": "存续" } }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // The reviewer runs one-click verification: the legal representative fails, the rest pass.
    let rev = app.login("shichang").await;
    let list = rev.get("/services/applications").await.body;
    assert!(list.contains(&id), "{list}");
    // Its 办件编号 is shown, searchable and on the 受理凭证.
    let case_no = mine.split("id=\"case-no\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert!(case_no.starts_with("2026") && case_no.len() == 11, "{case_no}");
    assert!(rev.get(&format!("/services/applications?q={case_no}")).await.body.contains(&id));
    assert!(!rev.get("/services/applications?q=20269999999").await.body.contains(&id));
    assert!(ent.get(&format!("/services/mine?q={case_no}")).await.body.contains(&case_no));
    assert!(ent.get(&format!("{page}/receipt")).await.body.contains(&case_no));
    let r = rev.submit(&page, &format!("{page}/verify"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let shown = rev.get(&page).await.body;
    assert!(shown.contains("项中 1 项不一致"), "{shown}");
    let fail_row = shown.split("<tr class=\"fail\">").nth(1).expect("a failed row");
    assert!(
        fail_row.contains("法定代表人") && fail_row.contains("王更正") && fail_row.contains("企业登记信息"),
        "{fail_row}"
    );
    assert!(shown.contains("证件助手") && shown.contains("营业执照"));
    // Another department's reviewer may not see it (403, audited).
    let other = app.login("zhujian").await;
    assert_eq!(other.get(&page).await.status, StatusCode::FORBIDDEN);

    // Cross-department verification: the tax bureau answers in the platform.
    let r = rev
        .submit(&page, &format!("{page}/xrequest"), &[("to_dept", "swj"), ("question", "该企业近三年是否存在欠税记录")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let tax = app.login("shuiwu").await;
    // It counts in the asked clerk's to-do on the home page.
    let home = tax.get("/home").await.body;
    assert!(home.contains(r#"id="xrequests-card"><div class="num">1</div>"#), "{home}");
    let inbox = tax.get("/services/xrequests").await.body;
    assert!(inbox.contains("该企业近三年是否存在欠税记录"), "{inbox}");
    // It names whom it is about and the item, and offers the three answers.
    assert!(inbox.contains("核实对象") && inbox.contains("value=\"partly\"> 部分属实"), "{inbox}");
    // It links the application, which the asked department may open.
    assert!(inbox.contains(&format!("href=\"/services/applications/{id}\"")), "link to the application");
    assert_eq!(tax.get(&page).await.status, StatusCode::OK);
    let xid = inbox.split("action=\"/services/xrequests/").nth(1).unwrap().split('"').next().unwrap().to_string();
    // The answer carries the record checked as an attachment; a renamed file is refused.
    let answer = |name: &'static str, bytes: &'static [u8]| {
        let tax = &tax;
        let xid = xid.clone();
        async move {
            let token = tax.get("/services/xrequests").await.csrf();
            let form = reqwest::multipart::Form::new()
                .text("_csrf", token)
                .text("outcome", "partly")
                .text("answer", "经金税系统核实，2024年有一笔已补缴的逾期申报")
                .part("attachment", reqwest::multipart::Part::bytes(bytes).file_name(name));
            let r =
                tax.http.post(format!("{}/services/xrequests/{xid}", tax.base)).multipart(form).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (_, body) = answer("完税证明.pdf", b"MZ\x90\x00 not a pdf").await;
    assert!(body.contains("附件内容与文件类型不符"), "{body}");
    let (status, body) = answer("完税证明.pdf", b"%PDF-1.7\n%test\n").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let shown = rev.get(&page).await.body;
    assert!(
        shown.contains("部分属实：经金税系统核实，2024年有一笔已补缴的逾期申报")
            && shown.contains("附件：完税证明.pdf")
    );
    let (st, ct, bytes) = rev.get_bytes(&format!("/services/xrequests/{xid}/attachment")).await;
    assert_eq!((st, ct.as_str(), bytes.starts_with(b"%PDF-")), (StatusCode::OK, "application/pdf", true));
    let zhujian = app.login("zhujian").await;
    assert_eq!(zhujian.get_bytes(&format!("/services/xrequests/{xid}/attachment")).await.0, StatusCode::NOT_FOUND);

    // Return with a one-time notice; the applicant corrects; verification passes.
    let r = rev
        .submit(
            &page,
            &format!("{page}/decide"),
            &[
                ("action", "return"),
                ("target", "application"),
                ("note_application", "法定代表人与登记信息不一致，请核对"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let notice = ent.get(&page).await.body;
    assert!(
        notice.contains("一次性告知") && notice.contains("法定代表人与登记信息不一致") && notice.contains("待补正"),
        "{notice}"
    );
    // The notice is a document of the department: numbered, addressed, citing art. 32, the
    // application's 办件编号 in it, printable as PDF.
    let sheet = ent.get(&format!("{page}/notices/1")).await.body;
    assert!(
        sheet.contains("补正材料通知书（一次性告知）")
            && sheet.contains("亳市监补〔2026〕1号")
            && sheet.contains(&case_no)
            && sheet.contains("第三十二条第一款第四项"),
        "one-time notice sheet"
    );
    assert_pdf(&ent.get_bytes(&format!("{page}/notices/1/pdf")).await);
    fields[1] = ("f_legal_rep", "王更正".to_string());
    let r = post_multipart(&ent, &page, &format!("{page}/resubmit"), &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    rev.submit(&page, &format!("{page}/verify"), &[]).await;
    assert!(rev.get(&page).await.body.contains("项全部一致"));

    // Approval issues the e-license, sealed; the case is archived.
    let r = rev.submit(&page, &format!("{page}/decide"), &[("action", "approve"), ("comment", "符合条件")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let done = ent.get(&page).await.body;
    assert!(done.contains("已办结") && done.contains("电子档案"), "{done}");
    let number = done.split("id=\"result\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert!(number.starts_with("SPJYXK"), "{number}");

    // Anyone verifies it by number; the holder's file verifies; one byte changed does not.
    let anon = app.client();
    let v = anon.get(&format!("/licenses/verify?number={number}")).await.body;
    assert!(v.contains("核验通过") && v.contains("市场监督管理局电子印章"), "{v}");
    let file = ent.get(&format!("/licenses/{number}/file")).await;
    assert_eq!(file.status, StatusCode::OK);
    // The license page carries a QR code whose signed payload verifies anywhere; 有效期至 is a
    // date; the PDF copy downloads.
    let lic = ent.get(&format!("/licenses/{number}")).await.body;
    assert!(lic.contains("证照核验二维码") && lic.contains("有效期至</dt><dd>20"), "QR and validity date");
    assert!(!lic.split("有效期至</dt><dd>").nth(1).unwrap().split('<').next().unwrap().contains(':'));
    let link =
        lic.split("href=\"/documents/verify?p=").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let v = anon.get(&format!("/documents/verify?p={link}")).await.body;
    assert!(v.contains("核验通过") && v.contains(&number) && v.contains("电子证照"), "QR verify");
    assert_pdf(&ent.get_bytes(&format!("/licenses/{number}/pdf")).await);
    let upload = |bytes: Vec<u8>| {
        let anon = app.client();
        async move {
            let token = anon.get("/licenses/verify").await.csrf();
            let form = reqwest::multipart::Form::new()
                .text("_csrf", token)
                .part("file", reqwest::multipart::Part::bytes(bytes).file_name("license.json"));
            anon.http
                .post(format!("{}/licenses/verify", anon.base))
                .multipart(form)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let ok = upload(file.body.clone().into_bytes()).await;
    assert!(ok.contains("核验通过"), "{ok}");
    let mut tampered = file.body.clone().into_bytes();
    let at = file.body.find("热食类").expect("the licensed item is in the file");
    tampered[at + 2] ^= 0x01;
    let bad = upload(tampered).await;
    assert!(bad.contains("核验不通过") && bad.contains("已被改动"), "{bad}");

    // Statistics: one application, returned once, one cross-department request answered.
    let st = rev.get("/services/stats").await.body;
    let city = st.split("id=\"city\"").nth(1).unwrap();
    assert!(city.contains("<td>申请件数</td><td class=\"num\">1</td>"), "{city}");
    assert!(city.contains("<td>退回补正率</td><td class=\"num\">100.0%</td>"), "{city}");
    assert!(city.contains("<td>驳回率</td><td class=\"num\">0.0%</td>"), "{city}");
    assert!(st.contains("食品经营许可证延续"), "{st}");
    let x = rev.get("/services/stats?format=csv").await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.body.contains("食品经营许可证延续") && x.body.contains("全市"), "{}", x.body);

    // Every look-up was logged; the shared-data page counts them.
    let ex = rev.get("/exchange").await.body;
    let calls: i64 = ex.split("id=\"total-calls\">").nth(1).unwrap().split('<').next().unwrap().parse().unwrap();
    assert!(calls >= 6, "{calls}");
    let actions: Vec<String> = app.audit_actions().await.into_iter().map(|a| a.0).collect();
    for a in [
        "services.submit",
        "services.verify",
        "services.xrequest",
        "services.xanswer",
        "license.issue",
        "services.archive",
        "seal.create",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }

    // A request nobody answers: at its deadline (3 working days, 17:30) both departments are
    // told, once, audited.
    let r = rev
        .submit(&page, &format!("{page}/xrequest"), &[("to_dept", "swj"), ("question", "该企业是否办理过涉税信息变更")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    app.clock.advance(time::Duration::days(7));
    let mut overdue = false;
    for _ in 0..100 {
        app.state.job_waker.as_ref().expect("job runner").notify_one();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if app.audit_actions().await.iter().any(|a| a.0 == "services.xrequest.overdue") {
            overdue = true;
            break;
        }
    }
    assert!(overdue, "the overdue reminder ran");
    let tax = app.login("shuiwu").await;
    assert!(tax.get("/inbox").await.body.contains("已逾期，请尽快答复市市场监管局：该企业是否办理过涉税信息变更"));
    let rev = app.login("shichang").await;
    assert!(rev.get("/inbox").await.body.contains("逾期未答复：该企业是否办理过涉税信息变更"));
    let reminders = app.audit_actions().await.iter().filter(|a| a.0 == "services.xrequest.overdue").count();
    assert_eq!(reminders, 1, "the answered request is not reminded");
}

#[tokio::test]
async fn concurrent_api_submissions_share_commits_and_a_refused_one_rolls_back_alone() {
    let app = spawn_app().await;
    let login = app.login_of("enterprise").await;
    let ent = app.login(&login).await;
    let csrf = ent.get("/services").await.csrf();
    let values = |phone: &str| {
        json!({ "item": "SCJG-XK-001", "values": { "name": "x", "legal_rep": "x", "address": "x",
            "business_items": "热食类食品制售", "contact_phone": phone, "commit": "同意" } })
    };
    let mut tasks = vec![];
    for i in 0..24 {
        // Every sixth has a bad phone number and must be refused on its own.
        let body = if i % 6 == 5 { values("123") } else { values(&format!("139{:08}", i)) };
        let req = ent
            .http
            .post(format!("{}/api/v1/services/applications", ent.base))
            .header("x-csrf-token", &csrf)
            .json(&body);
        tasks.push(tokio::spawn(async move {
            let r = req.send().await.unwrap();
            (r.status(), r.json::<serde_json::Value>().await.unwrap())
        }));
    }
    let (mut ok, mut refused) = (vec![], 0);
    for t in tasks {
        let (s, v) = t.await.unwrap();
        if s == StatusCode::OK {
            assert_eq!(v["one_click"], true);
            ok.push(v["id"].as_str().unwrap().to_string());
        } else {
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
            assert!(v["message"].as_str().unwrap().contains("手机号码"), "{v}");
            refused += 1;
        }
    }
    assert_eq!((ok.len(), refused), (20, 4));
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM svc_applications").fetch_one(app.state.db.reader()).await.unwrap();
    let started: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wf_instances WHERE def_id = 'svc.SCJG-XK-001'")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!((stored, started), (20, 20), "refused submissions left nothing behind");
    let v: serde_json::Value = ent
        .http
        .get(format!("{}/api/v1/services/applications/{}", ent.base, ok[0]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "running");
}

#[tokio::test]
async fn an_item_with_an_upload_takes_the_file_and_keeps_its_digest() {
    let app = spawn_app().await;
    let login = app.login_of("enterprise").await;
    let ent = app.login(&login).await;
    let item = "/services/items/SCJG-XK-002";
    let form = ent.get(item).await.body;
    assert!(form.contains("type=\"file\"") && !form.contains("badge ok\">一键申报"), "needs an upload");
    let send = |file: Option<(&'static str, Vec<u8>)>| {
        let ent = &ent;
        let form = form.clone();
        async move {
            let token = ent.get(item).await.csrf();
            let mut f = reqwest::multipart::Form::new().text("_csrf", token);
            for k in ["name", "legal_rep", "address"] {
                f = f.text(format!("f_{k}"), input_value(&form, k));
            }
            f = f.text("f_business_items", "散装食品销售").text("f_area_m2", "85.5");
            if let Some((name, bytes)) = file {
                f = f.part("file_layout", reqwest::multipart::Part::bytes(bytes).file_name(name));
            }
            let r = ent.http.post(format!("{}{item}", ent.base)).multipart(f).send().await.unwrap();
            (r.status(), r.headers().get("location").map(|v| v.to_str().unwrap().to_string()), r.text().await.unwrap())
        }
    };
    let (s, _, body) = send(None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("请上传“经营场所平面布局图”"), "{body}");
    let (s, _, body) = send(Some(("plan.exe", b"MZ".to_vec()))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("应为 PDF、OFD、JPG、PNG 或 ZIP 文件"), "{body}");
    let pdf = b"%PDF-1.4 layout".to_vec();
    let (s, location, body) = send(Some(("layout.pdf", pdf.clone()))).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    let page = ent.get(&location.unwrap()).await.body;
    let digest: String = domain::crypto::sm3(&pdf).iter().map(|b| format!("{b:02x}")).collect();
    assert!(page.contains("layout.pdf") && page.contains(&digest), "{page}");
}

#[tokio::test]
async fn an_administrator_suspends_an_item_and_applicants_see_why() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let r = admin.submit("/admin/services", "/admin/services/SCJG-XK-001", &[("enabled", "0"), ("note", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("请填写暂停受理的原因"), "{}", r.body);
    let r = admin
        .submit(
            "/admin/services",
            "/admin/services/SCJG-XK-001",
            &[("enabled", "0"), ("note", "系统升级，12月1日恢复")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let ent = app.login(&app.login_of("enterprise").await).await;
    assert!(ent.get("/services").await.body.contains("暂停受理"));
    let page = ent.get("/services/items/SCJG-XK-001").await.body;
    assert!(page.contains("该事项暂停受理：系统升级，12月1日恢复") && !page.contains("确认提交"), "{page}");
    let csrf = ent.get("/services").await.csrf();
    let body = json!({ "item": "SCJG-XK-001", "values": { "name": "x", "legal_rep": "x", "address": "x",
        "business_items": "热食类食品制售", "contact_phone": "13955550000", "commit": "同意" } });
    let post = || {
        ent.http.post(format!("{}/api/v1/services/applications", ent.base)).header("x-csrf-token", &csrf).json(&body)
    };
    let r = post().send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("暂停受理"));

    admin.submit("/admin/services", "/admin/services/SCJG-XK-001", &[("enabled", "1")]).await;
    assert_eq!(post().send().await.unwrap().status(), StatusCode::OK);
    let actions: Vec<String> = app.audit_actions().await.into_iter().map(|a| a.3).collect();
    assert!(actions.iter().any(|d| d.contains("暂停受理，系统升级")) && actions.iter().any(|d| d.contains("恢复受理")));
}

#[tokio::test]
async fn the_data_owner_imports_a_file_all_or_none_and_only_into_its_own_interfaces() {
    let app = spawn_app().await;
    let uscc = app.login_of("enterprise").await;
    let staff = app.login("shichang").await;
    let page = staff.get("/exchange").await.body;
    assert!(page.contains("id=\"import-form\"") && page.contains("value=\"scjg.enterprise\""), "{page}");
    assert!(!page.contains("value=\"sw.tax\""), "only the department's own interfaces");
    let template = staff.http.get(format!("{}/exchange/template/scjg.enterprise", staff.base)).send().await.unwrap();
    assert_eq!(template.status(), StatusCode::OK);
    let text = template.text().await.unwrap();
    assert!(text.trim_start_matches('\u{feff}').starts_with("主体标识,企业名称,统一社会信用代码"), "{text}");

    let send = |iface: &'static str, csv: String| {
        let staff = &staff;
        async move {
            let token = staff.get("/exchange").await.csrf();
            let f = reqwest::multipart::Form::new()
                .text("_csrf", token)
                .text("interface", iface)
                .text("source", "安徽省市场主体登记系统")
                .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("records.csv"));
            let r = staff.http.post(format!("{}/exchange/import", staff.base)).multipart(f).send().await.unwrap();
            (r.status(), r.headers().get("location").map(|v| v.to_str().unwrap().to_string()), r.text().await.unwrap())
        }
    };
    let name_of = || async {
        let data: String =
            sqlx::query_scalar("SELECT data FROM dx_records WHERE interface = 'scjg.enterprise' AND subject = $1")
                .bind(&uscc)
                .fetch_one(app.state.db.reader())
                .await
                .unwrap();
        serde_json::from_str::<serde_json::Value>(&data).unwrap()["name"].as_str().unwrap().to_string()
    };
    let before = name_of().await;
    // The third line's identifier has a wrong check character: nothing is imported.
    let mut bad = uscc.clone();
    let last = if bad.ends_with('0') { '1' } else { '0' };
    bad.pop();
    bad.push(last);
    let (s, _, body) =
        send("scjg.enterprise", format!("主体标识,企业名称,登记状态\n{uscc},导入后名称,存续\n{bad},x,存续\n")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("第 3 行") && body.contains("文件未导入"), "{body}");
    assert_eq!(name_of().await, before);
    let (s, _, body) = send("scjg.enterprise", format!("主体标识,注册地\n{uscc},x\n")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("未知列“注册地”"), "{body}");

    let (s, location, body) =
        send("scjg.enterprise", format!("主体标识,企业名称,登记状态\n{uscc},导入后名称,存续\n")).await;
    assert_eq!((s, location.as_deref()), (StatusCode::SEE_OTHER, Some("/exchange")), "{body}");
    assert_eq!(name_of().await, "导入后名称");
    assert!(staff.get("/exchange").await.body.contains("已导入“企业登记信息”1 条记录"));
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'exchange.import'")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(audited, 1);

    // Another department's interface: refused.
    let (s, _, _) = send("sw.tax", format!("主体标识\n{uscc}\n")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_enterprise_seals_its_application_and_the_check_fails_once_a_signed_value_changes() {
    let app = spawn_app().await;
    let login = app.login_of("enterprise").await;
    let ent = app.login(&login).await;
    let item = "/services/items/SCJG-DJ-002";
    let form = ent.get(item).await.body;
    assert!(form.contains("同意以企业电子印章签署《申请书电子签章（企业电子印章）》"), "{form}");
    let mut fields = vec![
        ("f_name", input_value(&form, "name")),
        ("f_uscc", input_value(&form, "uscc")),
        ("f_reason", "决议解散".to_string()),
        ("f_commit", "同意".to_string()),
        ("f_no_objection", "同意".to_string()),
        ("f_sign.seal", "同意".to_string()),
    ];
    // 市场主体登记管理条例 art. 33 ¶2: without a finished publicity on record, refused.
    let r = post_multipart(&ent, item, item, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("第三十三条第二款") && r.body.contains("无记录"), "{}", r.body);
    // The publicity system records the end of the 20 days on 20 November (the clock: the 27th).
    let mut tx = app.state.db.begin().await.unwrap();
    sqlx::query(match app.state.db.backend() {
        store::Backend::Sqlite => {
            "UPDATE dx_records SET data = json_set(data, '$.publicity_ended_on', '2026-11-20')
                 WHERE interface = 'scjg.enterprise' AND subject = $1"
        }
        store::Backend::Postgres => {
            "UPDATE dx_records SET data = jsonb_set(data::jsonb, '{publicity_ended_on}', '\"2026-11-20\"')::text
                 WHERE interface = 'scjg.enterprise' AND subject = $1"
        }
    })
    .bind(input_value(&form, "uscc"))
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    fields.pop();
    // Not ticked: refused beside the material.
    let r = post_multipart(&ent, item, item, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("请确认以企业电子印章签署“申请书电子签章（企业电子印章）”"), "{}", r.body);
    fields.push(("f_sign.seal", "同意".to_string()));
    let r = post_multipart(&ent, item, item, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = r.location.unwrap();
    let mine = ent.get(&page).await.body;
    assert!(mine.contains("<div class=\"seal\"><svg"), "the seal picture is shown: {mine}");
    assert!(mine.contains("签署，SM3"), "{mine}");

    // The reviewer's one-click verification checks the seal against the values held.
    let rev = app.login("shichang").await;
    rev.submit(&page, &format!("{page}/verify"), &[]).await;
    let shown = rev.get(&page).await.body;
    let row = shown.split("企业电子印章验签</td>").nth(1).expect("a signature row");
    assert!(row.contains("SM2 验签通过") && row.contains("通过"), "{row}");

    // Returned and corrected: the applicant signs again (round 1), and it still verifies.
    let r = rev
        .submit(
            &page,
            &format!("{page}/decide"),
            &[("action", "return"), ("target", "application"), ("note_application", "注销原因请选择“其他”并说明")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    fields[2] = ("f_reason", "其他".to_string());
    let r = post_multipart(&ent, &page, &format!("{page}/resubmit"), &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = page.rsplit('/').next().unwrap();
    let rounds: Vec<i64> =
        sqlx::query_scalar("SELECT round FROM svc_signatures WHERE application_id = $1 ORDER BY round")
            .bind(id)
            .fetch_all(app.state.db.reader())
            .await
            .unwrap();
    assert_eq!(rounds, vec![0, 1]);
    rev.submit(&page, &format!("{page}/verify"), &[]).await;
    assert!(rev.get(&page).await.body.contains("项全部一致"));

    // A signed value changed behind the platform's back fails the check.
    let mut tx = app.state.db.begin().await.unwrap();
    sqlx::query("UPDATE svc_applications SET form = REPLACE(form, '其他', '决议解散') WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rev.submit(&page, &format!("{page}/verify"), &[]).await;
    let shown = rev.get(&page).await.body;
    let row = shown.split("企业电子印章验签</td>").nth(1).expect("a signature row");
    assert!(row.contains("申请内容在签名后被改动"), "{row}");
    let actions: Vec<String> = app.audit_actions().await.into_iter().map(|a| a.0).collect();
    assert!(actions.iter().any(|a| a == "signer.create"));
}

/// Submits an item's form with one file, as the browser does.
async fn apply_with_file(c: &Client, item: &str, fields: &[(&str, String)], file: (&str, &str)) -> Page {
    let token = c.get(item).await.csrf();
    let mut f = reqwest::multipart::Form::new().text("_csrf", token);
    for (k, v) in fields {
        f = f.text(k.to_string(), v.clone());
    }
    f = f.part(
        format!("file_{}", file.0),
        reqwest::multipart::Part::bytes(b"%PDF-1.4 demo".to_vec()).file_name(file.1.to_string()),
    );
    let r = c.http.post(format!("{}{item}", c.base)).multipart(f).send().await.unwrap();
    let (status, location) = (r.status(), r.headers().get("location").map(|v| v.to_str().unwrap().to_string()));
    Page { status, body: r.text().await.unwrap(), location, headers: Default::default() }
}

#[tokio::test]
async fn an_approved_case_is_taken_from_the_e_archive_and_a_changed_archive_fails_the_check() {
    let app = spawn_app().await;
    let login = app.login_of("enterprise").await;
    let ent = app.login(&login).await;
    // Before any construction permit, the filing cannot take one from the archive.
    let filing = "/services/items/ZJ-BA-001";
    let form = ent.get(filing).await.body;
    assert!(form.contains("没有已办结的“建筑工程施工许可证核发”电子档案"), "{form}");

    // The permit is applied for and approved: its case is archived.
    let permit = "/services/items/ZJ-XK-001";
    let pform = ent.get(permit).await.body;
    let r = apply_with_file(
        &ent,
        permit,
        &[
            ("f_name", input_value(&pform, "name")),
            ("f_project_name", "亳州市某某小区 1# 楼".into()),
            ("f_project_address", "谯城区汤王大道 88 号".into()),
            ("f_contract_price", "12000000".into()),
            ("f_commit", "同意".into()),
        ],
        ("drawings", "审查合格书.pdf"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let permit_page = r.location.unwrap();
    let permit_id = permit_page.rsplit('/').next().unwrap().to_string();
    let rev = app.login("zhujian").await;
    let r =
        rev.submit(&permit_page, &format!("{permit_page}/decide"), &[("action", "approve"), ("comment", "同意")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Now the filing's form links the archived case instead of asking for copies.
    let form = ent.get(filing).await.body;
    assert!(form.contains("已关联电子档案：建筑工程施工许可证核发") && form.contains(&permit_id), "{form}");
    let r = apply_with_file(
        &ent,
        filing,
        &[
            ("f_name", input_value(&form, "name")),
            ("f_project_name", "亳州市某某小区 1# 楼".into()),
            ("f_accepted_on", "2026-11-20".into()),
        ],
        ("report", "竣工验收报告.pdf"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = r.location.unwrap();
    rev.submit(&page, &format!("{page}/verify"), &[]).await;
    let shown = rev.get(&page).await.body;
    let row = shown.split("<td>电子档案</td>").nth(1).expect("an archive row");
    assert!(row.contains(&permit_id) && row.contains("badge ok"), "{row}");

    // The archive is append-only; someone who drops the guard and edits it is caught.
    let mut tx = app.state.db.begin().await.unwrap();
    let refused = sqlx::query("UPDATE svc_archive SET manifest = manifest || ' ' WHERE application_id = $1")
        .bind(&permit_id)
        .execute(&mut *tx)
        .await;
    assert!(refused.is_err(), "the archive refuses changes");
    drop(tx);
    let mut tx = app.state.db.begin().await.unwrap();
    let drop = match app.state.db.backend() {
        store::Backend::Sqlite => "DROP TRIGGER svc_archive_no_update",
        store::Backend::Postgres => "DROP TRIGGER svc_archive_no_update ON svc_archive",
    };
    sqlx::query(drop).execute(&mut *tx).await.unwrap();
    sqlx::query("UPDATE svc_archive SET manifest = REPLACE(manifest, '12000000', '1200000') WHERE application_id = $1")
        .bind(&permit_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rev.submit(&page, &format!("{page}/verify"), &[]).await;
    let shown = rev.get(&page).await.body;
    let row = shown.split("<td>电子档案</td>").nth(1).expect("an archive row");
    assert!(row.contains("档案内容与归档摘要不一致"), "{row}");
}
