use super::*;

fn row(kind: Kind, via: Via, pairs: &[(&str, &str)]) -> Result<Record, Rejection> {
    parse_row(
        kind,
        via,
        &Limits::default(),
        pairs.iter().map(|(k, v)| (kind.column(k).unwrap_or_else(|| panic!("{k}")), *v)),
    )
}

#[test]
fn a_payment_row_in_yuan_from_a_file_and_in_fen_from_the_api() {
    let file = row(
        Kind::Payments,
        Via::File,
        &[
            ("流水号", "P1"),
            ("项目编号", "BZ-1"),
            ("身份证号码", "11010519491231002X"),
            ("工资月份", "2026年10月"),
            ("实发金额（元）", "7,800.50"),
            ("发放日期", "2026/11/15"),
        ],
    )
    .unwrap();
    assert_eq!(file.int("amount_fen"), Some(780_050));
    assert_eq!(file.date("month"), Some(time::macros::date!(2026 - 10 - 01)));
    let api = row(
        Kind::Payments,
        Via::Api,
        &[
            ("external_id", "P1"),
            ("project_code", "BZ-1"),
            ("id_card_no", "11010519491231002x"),
            ("month", "2026-10"),
            ("amount_fen", "780050"),
            ("paid_on", "2026-11-15"),
        ],
    )
    .unwrap();
    assert_eq!(api, file, "same record either way");
}

#[test]
fn bad_rows_say_which_column_and_why_in_chinese() {
    let base = [
        ("流水号", "P1"),
        ("项目编号", "BZ-1"),
        ("身份证号码", "11010519491231002X"),
        ("工资月份", "2026-10"),
        ("实发金额（元）", "100"),
        ("发放日期", "2026-11-15"),
    ];
    let with = |k: &str, v: &'static str| {
        let mut p: Vec<(&str, &str)> = base.iter().filter(|(h, _)| *h != k).copied().collect();
        p.push((k, v));
        row(Kind::Payments, Via::File, &p).unwrap_err()
    };
    let e = with("身份证号码", "110105194912310021");
    assert_eq!(e.field, "身份证号码");
    assert!(e.reason.contains("校验码"), "{e:?}");
    let e = with("实发金额（元）", "12.345");
    assert!(e.reason.contains("两位小数"), "{e:?}");
    let e = with("实发金额（元）", "-5");
    assert!(e.reason.contains("负数"), "{e:?}");
    let e = with("实发金额（元）", "0");
    assert!(e.reason.contains("大于零"), "{e:?}");
    let e = with("发放日期", "2026-02-30");
    assert!(e.reason.contains("不是有效的日期"), "{e:?}");
    let e = with("发放日期", "2026-09-30");
    assert!(e.reason.contains("早于工资月份"), "{e:?}");
    let e = with("流水号", "");
    assert!(e.reason.contains("必填"), "{e:?}");
}

#[test]
fn headers_by_key_or_chinese_and_missing_required_columns() {
    let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (cols, unknown) =
        map_headers(Kind::Attendance, &h(&["*项目编号", "id_card_no", "月份", "出勤天数", "备注"])).unwrap();
    assert_eq!(cols.iter().filter(|c| c.is_some()).count(), 4);
    assert_eq!(unknown, vec!["备注".to_string()]);
    let err = map_headers(Kind::Attendance, &h(&["项目编号", "月份"])).unwrap_err();
    assert!(err.contains("身份证号码") && err.contains("出勤天数"), "{err}");
}

#[test]
fn every_kind_has_a_template_row_that_parses_once_ids_are_filled() {
    for kind in Kind::ALL {
        assert_eq!(kind.columns().len(), kind.example().len(), "{kind:?}");
        let cells = kind.columns().iter().zip(kind.example()).map(|(c, v)| match (c.ty, v.is_empty()) {
            (ColType::IdCard, true) => (c, "11010519491231002X"),
            (ColType::Uscc, true) if c.required => (c, "91110108551385082Q"),
            _ => (c, *v),
        });
        parse_row(kind, Via::File, &Limits::default(), cells).unwrap_or_else(|e| panic!("{kind:?}: {e:?}"));
    }
}

#[test]
fn dates_and_months_as_people_write_them() {
    let d = time::macros::date!(2026 - 11 - 05);
    for s in ["2026-11-05", "2026/11/5", "2026.11.05", "2026年11月5日", "20261105", "２０２６-11-05"] {
        assert_eq!(parse_date(s), Some(d), "{s}");
    }
    let m = time::macros::date!(2026 - 10 - 01);
    for s in ["2026-10", "2026/10", "2026年10月", "202610", "2026-10-31"] {
        assert_eq!(parse_month(s), Some(m), "{s}");
    }
    assert_eq!(parse_month("2026-13"), None);
    assert_eq!(parse_date("2026-11"), None);
}

/// 条例 art. 15 ¶2: a payroll line carries 应发, what was withheld and 实发. Either of the last
/// two may be sent (the other follows); both must agree with 应发; 实发 cannot exceed 应发.
#[test]
fn art_15_payroll_lines_carry_deductions_and_net_pay() {
    let base = [
        ("项目编号", "BZ-1"),
        ("身份证号码", "11010519491231002X"),
        ("工资月份", "2026-10"),
        ("应发工资（元）", "6000"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut pairs: Vec<(&str, &str)> = base.to_vec();
        pairs.extend_from_slice(extra);
        row(Kind::Payroll, Via::File, &pairs)
    };
    assert_eq!(with(&[]).unwrap().int("deductions_fen"), Some(0));
    assert_eq!(with(&[("实发工资（元）", "5370")]).unwrap().int("deductions_fen"), Some(63_000));
    let both = with(&[("代扣代缴及扣除（元）", "630"), ("实发工资（元）", "5370")]).unwrap();
    assert_eq!((both.int("deductions_fen"), both.has("net_fen")), (Some(63_000), false));
    let e = with(&[("代扣代缴及扣除（元）", "630"), ("实发工资（元）", "5400")]).unwrap_err();
    assert!(e.reason.contains("不符"), "{}", e.reason);
    let e = with(&[("实发工资（元）", "6100")]).unwrap_err();
    assert!(e.reason.contains("不能多于应发"), "{}", e.reason);
}
