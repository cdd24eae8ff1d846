//! Reading an uploaded table (CSV or XLSX) into a header row and text rows, the mirror of
//! `export`. CSV may be UTF-8 (with or without BOM) or GBK, as Excel on Chinese Windows saves
//! it; XLSX dates become `YYYY-MM-DD`.

use std::io::Cursor;

/// The most rows one file may carry; larger imports are split.
pub const MAX_ROWS: usize = 50_000;

#[derive(Debug, Default)]
pub struct Upload {
    pub headers: Vec<String>,
    /// (row number as the user sees it in the file, cells).
    pub rows: Vec<(i64, Vec<String>)>,
}

pub fn read(filename: &str, bytes: &[u8]) -> Result<Upload, String> {
    let lower = filename.to_lowercase();
    let upload = if lower.ends_with(".xlsx") || bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)?
    } else if lower.ends_with(".xls") {
        return Err("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入".into());
    } else {
        read_csv(bytes)?
    };
    if upload.headers.iter().all(|h| h.trim().is_empty()) {
        return Err("文件为空或第一行不是表头".into());
    }
    if upload.rows.is_empty() {
        return Err("文件只有表头，没有数据行".into());
    }
    if upload.rows.len() > MAX_ROWS {
        return Err(format!("文件有 {} 行数据，单个文件最多 {MAX_ROWS} 行，请拆分后导入", upload.rows.len()));
    }
    Ok(upload)
}

fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GBK.decode(bytes).0.into_owned(),
    }
}

fn read_csv(bytes: &[u8]) -> Result<Upload, String> {
    let text = decode(bytes);
    let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut out = Upload::default();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| format!("第 {} 行无法按 CSV 读取：{e}", i + 1))?;
        let cells: Vec<String> = rec.iter().map(|c| c.trim().to_string()).collect();
        if i == 0 {
            out.headers = cells;
        } else if cells.iter().any(|c| !c.is_empty()) {
            out.rows.push((i as i64 + 1, cells));
        }
    }
    Ok(out)
}

fn read_xlsx(bytes: &[u8]) -> Result<Upload, String> {
    use calamine::{Data, Reader};
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec()))
        .map_err(|e| format!("无法读取 Excel 文件：{e}"))?;
    let range =
        book.worksheet_range_at(0).ok_or("Excel 文件没有工作表")?.map_err(|e| format!("无法读取第一个工作表：{e}"))?;
    let cell = |d: &Data| -> String {
        match d {
            Data::Empty | Data::Error(_) => String::new(),
            Data::String(s) => s.trim().to_string(),
            Data::Int(i) => i.to_string(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Data::Float(f) => format!("{f}"),
            Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
            Data::DateTime(dt) => serial_date(dt.as_f64()),
            Data::DateTimeIso(s) | Data::DurationIso(s) => s.chars().take(10).collect(),
        }
    };
    let mut out = Upload::default();
    let start_row = range.start().map(|(r, _)| r as i64).unwrap_or(0);
    for (i, row) in range.rows().enumerate() {
        let cells: Vec<String> = row.iter().map(cell).collect();
        if i == 0 {
            out.headers = cells;
        } else if cells.iter().any(|c| !c.is_empty()) {
            out.rows.push((start_row + i as i64 + 1, cells));
        }
    }
    Ok(out)
}

/// Excel's day serial (1900 system, day 0 = 1899-12-30) as `YYYY-MM-DD`.
fn serial_date(serial: f64) -> String {
    let base = time::macros::date!(1899 - 12 - 30);
    match base.checked_add(time::Duration::days(serial.floor() as i64)) {
        Some(d) => d.to_string(),
        None => serial.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(serial_date(46331.0), "2026-11-05");
    }

    #[test]
    fn empty_and_old_formats_are_explained() {
        assert!(read("a.xls", b"x").unwrap_err().contains(".xlsx"));
        assert!(read("a.csv", "项目编号\n".as_bytes()).unwrap_err().contains("没有数据行"));
    }
}
