use super::*;
use std::io::Write;

/// An XLSX made of the given parts (name, XML), deflated.
fn xlsx(parts: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in parts {
        w.start_file(*name, opts).unwrap();
        w.write_all(body.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const WORKBOOK: &str = r#"<?xml version="1.0"?><workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const RELS: &str = r#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#;

fn book(sheet: &str, shared: Option<&str>) -> Vec<u8> {
    let mut parts =
        vec![("xl/workbook.xml", WORKBOOK), ("xl/_rels/workbook.xml.rels", RELS), ("xl/worksheets/sheet1.xml", sheet)];
    if let Some(s) = shared {
        parts.push(("xl/sharedStrings.xml", s));
    }
    xlsx(&parts)
}

#[test]
fn csv_in_gbk_with_blank_lines() {
    let (gbk, _, _) = encoding_rs::GBK.encode("项目编号,月份\nBZ-1,2026-10\n,\nBZ-2,2026-11\n");
    let t = read("x.csv", &gbk).unwrap();
    assert_eq!(t.headers, vec!["项目编号", "月份"]);
    assert_eq!(
        t.rows,
        vec![(2, vec!["BZ-1".to_string(), "2026-10".into()]), (4, vec!["BZ-2".into(), "2026-11".into()])]
    );
}

#[test]
fn xlsx_written_by_our_export_reads_back() {
    let table = crate::export::Table {
        title: "t".into(),
        headers: vec!["项目编号", "金额（元）"],
        rows: vec![vec!["BZ-1".into(), crate::export::Cell::from("7800.50")]],
    };
    let bytes = table.to_xlsx().unwrap();
    let t = read("t.xlsx", &bytes).unwrap();
    assert_eq!(t.headers, vec!["项目编号", "金额（元）"]);
    assert_eq!(t.rows, vec![(2, vec!["BZ-1".to_string(), "7800.50".into()])]);
    assert_eq!(serial_date("46331").as_deref(), Some("2026-11-05"));
}

#[test]
fn cells_by_type_with_dates_shared_and_inline_strings() {
    let styles = r#"<styleSheet><numFmts><numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/><numFmt numFmtId="177" formatCode="0.00"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="176"/><xf numFmtId="177"/></cellXfs></styleSheet>"#;
    let sheet = r#"<worksheet><sheetData>
        <row r="1"><c r="B1" t="s"><v>0</v></c><c r="C1" t="inlineStr"><is><t>日期</t></is></c><c r="D1" t="s"><v>1</v></c><c r="E1" t="str"><v>A&amp;B</v></c></row>
        <row r="3"><c r="B3" t="b"><v>1</v></c><c r="C3" s="1"><v>46331</v></c><c r="D3" s="3"><v>7800.5</v></c><c r="E3" s="2"><v>46332.5</v></c></row>
        <row r="4"><c r="B4"><v>12.0</v></c><c r="C4" t="e"><v>#N/A</v></c></row>
    </sheetData></worksheet>"#;
    let shared = r#"<sst><si><t>是否</t></si><si><r><t>金</t></r><r><t>额</t></r><rPh><t>きん</t></rPh></si></sst>"#;
    let bytes = xlsx(&[
        ("xl/workbook.xml", WORKBOOK),
        ("xl/_rels/workbook.xml.rels", RELS),
        ("xl/worksheets/sheet1.xml", sheet),
        ("xl/sharedStrings.xml", shared),
        ("xl/styles.xml", styles),
    ]);
    let t = read("t.xlsx", &bytes).unwrap();
    assert_eq!(t.headers, vec!["是否", "日期", "金额", "A&B"]);
    assert_eq!(t.rows[0], (3, vec!["是".to_string(), "2026-11-05".into(), "7800.5".into(), "2026-11-06".into()]));
    assert_eq!(t.rows[1], (4, vec!["12".to_string()]));
}

#[test]
fn a_cell_at_the_last_column_is_refused_without_a_dense_grid() {
    // One cell at A1 and one at XFD1048576: the sheet a dense reader would size at 2^34 cells.
    let sheet = r#"<worksheet><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>项目编号</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>"#;
    let err = read("sparse.xlsx", &book(sheet, None)).unwrap_err();
    assert!(err.contains("1048576 行超过 200 列"), "{err}");
}

#[test]
fn sparse_rows_far_down_are_read_by_their_number() {
    let sheet = r#"<worksheet><dimension ref="A1:A1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>项目编号</t></is></c></row><row r="1048576"><c r="A1048576" t="inlineStr"><is><t>BZ-1</t></is></c></row></sheetData></worksheet>"#;
    let t = read("sparse.xlsx", &book(sheet, None)).unwrap();
    assert_eq!(t.rows, vec![(1_048_576, vec!["BZ-1".to_string()])]);
}

#[test]
fn a_huge_cell_is_refused_before_it_is_held() {
    // 8 MB of one shared string; deflated it is a few KB (the zip-bomb shape).
    let big = format!("<sst><si><t>{}</t></si></sst>", "欠".repeat(8 * 1024 * 1024 / 3));
    let bytes = book(
        r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#,
        Some(&big),
    );
    assert!(bytes.len() < 200_000, "{}", bytes.len());
    let err = read("bomb.xlsx", &bytes).unwrap_err();
    assert!(err.contains("超过 2000 字的上限"), "{err}");
    // Inline, in the sheet itself.
    let sheet = format!(
        r#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>{}</t></is></c></row></sheetData></worksheet>"#,
        "x".repeat(3_000)
    );
    assert!(read("long.xlsx", &book(&sheet, None)).unwrap_err().contains("第 1 行有单元格超过 2000 字"));
}

#[test]
fn the_decompression_budget_holds_across_parts() {
    // Rows without cells: no run is long and no data row is counted; only the total grows.
    let sheet = format!("<worksheet><sheetData>{}</sheetData></worksheet>", "<row></row>".repeat(200_000));
    let bytes = book(&sheet, Some("<sst><si><t>a</t></si></sst>"));
    assert!(read_xlsx_within(&bytes, 3_000_000).is_ok());
    let err = read_xlsx_within(&bytes, 1_000_000).unwrap_err();
    assert!(err.contains("解压后超过"), "{err}");
}

#[test]
fn too_many_sheets_parts_or_levels_are_refused() {
    let sheets: String = (1..=65).map(|i| format!(r#"<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>"#)).collect();
    let wb = format!(r#"<workbook xmlns:r="r"><sheets>{sheets}</sheets></workbook>"#);
    let bytes = xlsx(&[("xl/workbook.xml", &wb), ("xl/worksheets/sheet1.xml", "<worksheet/>")]);
    assert!(read("s.xlsx", &bytes).unwrap_err().contains("工作表超过 64 个"));

    let deep = format!("<worksheet>{}{}</worksheet>", "<a>".repeat(100), "</a>".repeat(100));
    assert!(read("d.xlsx", &book(&deep, None)).unwrap_err().contains("嵌套超过 64 层"));

    let names: Vec<String> = (0..1_001).map(|i| format!("x/{i}.xml")).collect();
    let mut parts: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "<a/>")).collect();
    parts.push(("xl/workbook.xml", WORKBOOK));
    assert!(read("many.xlsx", &xlsx(&parts)).unwrap_err().contains("部件超过 1000 个"));
}

#[test]
fn truncated_or_foreign_files_are_explained() {
    let good = book(
        r#"<worksheet><sheetData><row><c t="inlineStr"><is><t>a</t></is></c></row></sheetData></worksheet>"#,
        None,
    );
    let half = &good[..good.len() / 2];
    assert!(read("half.xlsx", half).unwrap_err().contains("不完整或已损坏"));
    let ods = xlsx(&[("mimetype", "application/vnd.oasis.opendocument.spreadsheet"), ("content.xml", "<office/>")]);
    assert!(read("t.xlsx", &ods).unwrap_err().contains("只能导入"));
    assert!(read("t.ods", &ods).unwrap_err().contains("只能导入"));
    assert!(read("t.xlsb", b"PK\x03\x04").unwrap_err().contains("只能导入"));
    assert!(read("a.xls", b"x").unwrap_err().contains(".xlsx"));
    assert!(read("a.xlsx", b"\xD0\xCF\x11\xE0rest").unwrap_err().contains(".xls"));
    assert!(read("a.xlsx", b"not a zip").unwrap_err().contains("不完整或已损坏"));
    let bad_index =
        book(r#"<worksheet><sheetData><row><c t="s"><v>7</v></c></row></sheetData></worksheet>"#, Some("<sst/>"));
    assert!(read("i.xlsx", &bad_index).unwrap_err().contains("超出范围"));
}

#[test]
fn csv_limits_name_the_limit() {
    assert!(read("a.csv", "项目编号\n".as_bytes()).unwrap_err().contains("没有数据行"));
    let wide = format!("{}\n1\n", vec!["h"; 201].join(","));
    assert!(read("w.csv", wide.as_bytes()).unwrap_err().contains("超过 200 列"));
    let long = format!("h\n{}\n", "x".repeat(2_001));
    assert!(read("l.csv", long.as_bytes()).unwrap_err().contains("超过 2000 字"));
    let many = format!("h\n{}", "1\n".repeat(MAX_ROWS + 1));
    assert!(read("m.csv", many.as_bytes()).unwrap_err().contains("最多 50000 行"));
    let ok = format!("h\n{}", "1\n".repeat(MAX_ROWS));
    assert_eq!(read("m.csv", ok.as_bytes()).unwrap().rows.len(), MAX_ROWS);
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn seed() -> Vec<u8> {
        book(
            r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>2</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>BZ&amp;1</t></is></c><c r="B2" s="1"><v>46331</v></c></row></sheetData></worksheet>"#,
            Some("<sst><si><t>项目编号</t></si></sst>"),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, max_shrink_iters: 64, .. ProptestConfig::default() })]

        /// Any bytes, under any name: an answer (table or Chinese refusal), never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096), name in "[a-z]{1,4}\\.(csv|xlsx|xls|ods)") {
            let _ = read(&name, &bytes);
        }

        /// A real workbook with bytes flipped or cut: refused or read, never a panic.
        #[test]
        fn damaged_workbooks_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16), cut in any::<prop::sample::Index>()) {
            let mut b = seed();
            for (at, v) in flips {
                let i = at.index(b.len());
                b[i] = v;
            }
            let _ = read("f.xlsx", &b);
            let n = cut.index(b.len());
            let _ = read("f.xlsx", &b[..n]);
        }

        /// Sheet XML from fragments, well formed or not: never a panic.
        #[test]
        fn generated_sheets_never_panic(parts in proptest::collection::vec(prop::sample::select(vec![
            "<row>", "</row>", "<row r=\"9\">", "<c r=\"ZZZZ1\">", "<c r=\"B2\" t=\"s\">", "<c t=\"b\">", "<c s=\"99\">", "</c>",
            "<v>", "</v>", "1", "-1", "99999999999999999999", "&amp;", "&#xFFFFFF;", "&bogus;", "<is><t>", "</t></is>", "<![CDATA[x]]>",
        ]), 0..64)) {
            let sheet = format!("<worksheet><sheetData>{}</sheetData></worksheet>", parts.concat());
            let _ = read("g.xlsx", &book(&sheet, Some("<sst><si><t>a</t></si></sst>")));
        }
    }
}
