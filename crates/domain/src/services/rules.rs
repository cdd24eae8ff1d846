//! The pure rules of applying and verifying: what a form must hold, which uploads are
//! acceptable, and the pass/fail decision of each line of a one-click verification (一键核查).

use super::catalog::{FieldType, FormField, Item, ItemMaterial, MaterialKind, Subject};
use std::collections::BTreeMap;

/// The largest file accepted for an upload material.
pub const MAX_UPLOAD: usize = 10 * 1024 * 1024;
/// File types accepted for upload materials.
pub const UPLOAD_TYPES: [&str; 6] = [".pdf", ".ofd", ".jpg", ".jpeg", ".png", ".zip"];

/// The form key under which an applicant confirms signing a sign material.
pub fn consent_key(material: &str) -> String {
    format!("sign.{material}")
}

/// What signing means for the item's subject, for the applicant's confirmation.
pub fn what(subject: Subject) -> &'static str {
    match subject {
        Subject::Enterprise => "企业电子印章",
        Subject::Person => "本人电子签名",
    }
}

/// Checks typed values against the item's form: every problem, by field key.
pub fn check_form(item: &Item, values: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut errs = vec![];
    for (m, f) in item.fields().filter(|(m, _)| m.kind == MaterialKind::Form) {
        let v = values.get(&f.key).map(|v| v.trim()).unwrap_or("");
        let mut bad = |msg: String| errs.push((f.key.clone(), msg));
        if v.is_empty() {
            if f.required {
                bad(if f.ty == FieldType::Consent {
                    format!("请阅读并勾选《{}》", m.name)
                } else {
                    format!("请填写“{}”", f.label)
                });
            }
            continue;
        }
        match f.ty {
            FieldType::Number if v.parse::<rust_decimal::Decimal>().is_err() => {
                bad(format!("“{}”应为数字，如 120 或 35.5", f.label))
            }
            FieldType::Date if time::Date::parse(v, &time::format_description::well_known::Iso8601::DATE).is_err() => {
                bad(format!("“{}”应为日期，如 2026-12-01", f.label))
            }
            FieldType::Phone if !(v.len() == 11 && v.starts_with('1') && v.chars().all(|c| c.is_ascii_digit())) => {
                bad(format!("“{}”应为 11 位手机号码", f.label))
            }
            FieldType::Uscc => {
                if let Err(e) = crate::Uscc::parse(v) {
                    bad(format!("“{}”有误：{e}", f.label));
                }
            }
            FieldType::Idcard => {
                if let Err(e) = crate::IdCardNo::parse(v) {
                    bad(format!("“{}”有误：{e}", f.label));
                }
            }
            FieldType::Select if !f.options.iter().any(|o| o == v) => bad(format!("请从列表中选择“{}”", f.label)),
            _ => {}
        }
    }
    for m in item.materials.iter().filter(|m| m.kind == MaterialKind::Sign) {
        if values.get(&consent_key(&m.id)).is_none_or(|v| v.trim().is_empty()) {
            errs.push((m.id.clone(), format!("请确认以{}签署“{}”", what(item.subject), m.name)));
        }
    }
    errs
}

/// An uploaded file as the rules see it.
pub struct UploadMeta<'a> {
    pub material: &'a str,
    pub filename: &'a str,
    pub size: usize,
}

/// Every upload material present (a deferrable one may be missing: the window may accept it
/// under 容缺), of an accepted type and size; the first problem as (material, message).
pub fn check_uploads(item: &Item, uploads: &[UploadMeta<'_>]) -> Result<(), (String, String)> {
    for m in item.materials.iter().filter(|m| m.kind == MaterialKind::Upload) {
        match uploads.iter().find(|u| u.material == m.id && u.size > 0) {
            Some(u) => check_upload(m, u).map_err(|e| (m.id.clone(), e))?,
            None if m.deferrable => {}
            None => return Err((m.id.clone(), format!("请上传“{}”", m.name))),
        }
    }
    Ok(())
}

/// One file for `m`: an accepted type, at most `MAX_UPLOAD`.
pub fn check_upload(m: &ItemMaterial, u: &UploadMeta<'_>) -> Result<(), String> {
    let lower = u.filename.to_lowercase();
    if !UPLOAD_TYPES.iter().any(|t| lower.ends_with(t)) {
        return Err(format!("“{}”应为 PDF、OFD、JPG、PNG 或 ZIP 文件", m.name));
    }
    if u.size > MAX_UPLOAD {
        return Err(format!("“{}”超过 10 MB", m.name));
    }
    Ok(())
}

/// An attachment to a 协查 answer: a PDF, OFD, JPG or PNG of at most `MAX_UPLOAD`, whose
/// content is what its name says (the first bytes match the type), so a renamed executable or
/// script is refused.
pub fn check_attachment(filename: &str, bytes: &[u8]) -> Result<(), String> {
    let lower = filename.to_lowercase();
    let magic: &[u8] = if lower.ends_with(".pdf") {
        b"%PDF-"
    } else if lower.ends_with(".ofd") {
        b"PK\x03\x04"
    } else if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
        b"\xff\xd8\xff"
    } else if lower.ends_with(".png") {
        b"\x89PNG\r\n\x1a\n"
    } else {
        return Err("附件应为 PDF、OFD、JPG 或 PNG 文件".into());
    };
    if filename.chars().count() > 100 {
        return Err("附件文件名不超过 100 个字".into());
    }
    if bytes.len() > MAX_UPLOAD {
        return Err("附件超过 10 MB".into());
    }
    if !bytes.starts_with(magic) {
        return Err("附件内容与文件类型不符，请上传原始的 PDF、OFD、JPG 或 PNG 文件".into());
    }
    Ok(())
}

/// One line of a one-click verification.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CheckRow {
    pub material: String,
    pub label: String,
    pub submitted: String,
    pub authoritative: String,
    /// The source: interface name and owner, or the license registry.
    pub source: String,
    pub ok: bool,
    pub note: String,
}

/// Two values are the same when equal after trimming, or as amounts ("2000000" and
/// "2000000.00").
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a == b {
        return true;
    }
    match (a.parse::<rust_decimal::Decimal>(), b.parse::<rust_decimal::Decimal>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// A sourced field: the value the applicant submitted against the source's value now.
/// A shared-data value that rules the item out, as the reason to tell the applicant.
pub fn data_refusal(f: &FormField, value: &str, today: time::Date) -> Option<String> {
    let note = || f.refuse_note.clone().unwrap_or_else(|| format!("“{}”为“{}”，不能办理本事项", f.label, value.trim()));
    if f.refuse.iter().any(|r| r.trim() == value.trim()) {
        return Some(note());
    }
    let [from, to] = f.days_since?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(value.trim(), &format) {
        Ok(d) if (from..=to).contains(&(today - d).whole_days()) => None,
        Ok(d) => Some(format!("{}（{}：{d}）", note(), f.label)),
        Err(_) => Some(format!("{}（{}：无记录）", note(), f.label)),
    }
}

pub fn field_verdict(authoritative: Option<&str>, submitted: &str) -> (bool, String) {
    match authoritative {
        None => (false, "数据源中查无记录".to_string()),
        Some(a) if same(a, submitted) => (true, String::new()),
        Some(_) => (false, "与数据源不一致".to_string()),
    }
}

/// What the archive holds about an earlier case the application cites.
pub struct ArchivedCase<'a> {
    pub subject: &'a str,
    pub item: &'a str,
    pub approved: bool,
    /// The stored manifest still hashes to the stored digest.
    pub intact: bool,
}

/// An archive material: the cited case exists, is the applicant's, is an approved case of the
/// required item, and is unchanged since it was archived.
pub fn archive_verdict(case: Option<&ArchivedCase<'_>>, applicant: &str, required_item: &str) -> (bool, String) {
    match case {
        None => (false, "电子档案库中没有该档案".to_string()),
        Some(a) if a.subject != applicant => (false, "档案不属于申请主体".to_string()),
        Some(a) if a.item != required_item || !a.approved => (false, "档案不是所需事项的准予办结案件".to_string()),
        Some(a) if !a.intact => (false, "档案内容与归档摘要不一致（档案被改动）".to_string()),
        Some(_) => (true, String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attachment_is_what_its_name_says() {
        assert!(check_attachment("完税证明.pdf", b"%PDF-1.7 ...").is_ok());
        assert!(check_attachment("照片.PNG", b"\x89PNG\r\n\x1a\n....").is_ok());
        assert!(check_attachment("证明.pdf", b"MZ\x90\x00").unwrap_err().contains("不符"));
        assert!(check_attachment("run.sh", b"#!/bin/sh").unwrap_err().contains("PDF"));
        assert!(check_attachment("big.pdf", &vec![b'%'; MAX_UPLOAD + 1]).unwrap_err().contains("10 MB"));
    }

    #[test]
    fn amounts_compare_as_numbers() {
        assert!(same("2000000", "2000000.00"));
        assert!(same(" 亳州 ", "亳州"));
        assert!(!same("2000000", "200000"));
        assert!(!field_verdict(None, "x").0);
        assert!(field_verdict(Some("12.0"), "12").0);
        assert_eq!(field_verdict(Some("13"), "12").1, "与数据源不一致");
    }

    #[test]
    fn an_archive_must_be_the_applicants_approved_unchanged_case_of_the_item() {
        let case = |subject, item, approved, intact| ArchivedCase { subject, item, approved, intact };
        assert!(archive_verdict(Some(&case("A", "X", true, true)), "A", "X").0);
        assert_eq!(archive_verdict(Some(&case("B", "X", true, true)), "A", "X").1, "档案不属于申请主体");
        assert_eq!(archive_verdict(Some(&case("A", "Y", true, true)), "A", "X").1, "档案不是所需事项的准予办结案件");
        assert_eq!(archive_verdict(Some(&case("A", "X", false, true)), "A", "X").1, "档案不是所需事项的准予办结案件");
        assert_eq!(
            archive_verdict(Some(&case("A", "X", true, false)), "A", "X").1,
            "档案内容与归档摘要不一致（档案被改动）"
        );
        assert_eq!(archive_verdict(None, "A", "X").1, "电子档案库中没有该档案");
    }
}
