//! Reading an uploaded table (CSV or XLSX) into a header row and text rows, the mirror of
//! `export`. CSV may be UTF-8 (with or without BOM) or GBK, as Excel on Chinese Windows saves
//! it; XLSX dates become `YYYY-MM-DD`.
//!
//! Every upload is hostile until read: the reader never allocates in proportion to anything a
//! file declares (dimensions, sizes in the zip directory, counts). XLSX is read streaming, row
//! by row over the cells that exist, through a decompression budget; every limit below refuses
//! the file with a Chinese message naming it. Only `.xlsx` and CSV are read: `.xls`, `.xlsb`
//! and `.ods` are refused (nobody needs them, and each would be another parser to defend).

use std::io::{Cursor, Read};

/// The most data rows one file may carry; larger imports are split.
pub const MAX_ROWS: usize = 50_000;
/// The most columns a row may reach (every import template has fewer than 40).
pub const MAX_COLS: usize = 200;
/// The longest cell, in characters.
pub const MAX_CELL_CHARS: usize = 2_000;
/// What all parts of an XLSX may decompress to, together (a zip bomb stops here).
pub const MAX_DECOMPRESSED: u64 = 128 * 1024 * 1024;
/// Worksheets a workbook may list (only the first is read).
pub const MAX_SHEETS: usize = 64;
/// Entries in the zip directory (a workbook has a few dozen).
pub const MAX_ZIP_ENTRIES: usize = 1_000;
/// Strings in the shared-string table.
pub const MAX_SHARED_STRINGS: usize = 1_000_000;
/// Text in the shared-string table, in bytes, all strings together.
pub const MAX_SHARED_BYTES: usize = 64 * 1024 * 1024;
/// XML nesting depth in any part.
pub const MAX_XML_DEPTH: usize = 64;

#[derive(Debug, Default)]
pub struct Upload {
    pub headers: Vec<String>,
    /// (row number as the user sees it in the file, cells).
    pub rows: Vec<(i64, Vec<String>)>,
}

/// Spreadsheets parsed at once; more uploads wait their turn (each may hold up to the
/// shared-string limit in memory).
pub const PARSES_AT_ONCE: usize = 2;

/// [`read`] off the request threads, at most [`PARSES_AT_ONCE`] at a time.
pub async fn read_upload(slots: &tokio::sync::Semaphore, filename: String, bytes: Vec<u8>) -> Result<Upload, String> {
    let _slot = slots.acquire().await.map_err(|_| "服务器正在关闭，请稍后重试".to_string())?;
    tokio::task::spawn_blocking(move || read(&filename, &bytes))
        .await
        .unwrap_or_else(|_| Err("文件无法读取".to_string()))
}

pub fn read(filename: &str, bytes: &[u8]) -> Result<Upload, String> {
    let lower = filename.to_lowercase();
    let upload = if lower.ends_with(".xls") || bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入".into());
    } else if lower.ends_with(".xlsb") || lower.ends_with(".ods") || lower.ends_with(".xlsm") {
        return Err(UNSUPPORTED.into());
    } else if lower.ends_with(".xlsx") || bytes.starts_with(b"PK") {
        read_xlsx(bytes)?
    } else {
        read_csv(bytes)?
    };
    if upload.headers.iter().all(|h| h.trim().is_empty()) {
        return Err("文件为空或第一行不是表头".into());
    }
    if upload.rows.is_empty() {
        return Err("文件只有表头，没有数据行".into());
    }
    Ok(upload)
}

const UNSUPPORTED: &str =
    "只能导入 Excel 工作簿（.xlsx）或 CSV 文件；.xls、.xlsb、.xlsm、.ods 请在 Excel 中另存为 .xlsx 后再导入";

fn too_many_rows() -> String {
    format!("文件超过 {MAX_ROWS} 行数据，单个文件最多 {MAX_ROWS} 行，请拆分后导入")
}

fn too_many_cols(row: i64) -> String {
    format!("第 {row} 行超过 {MAX_COLS} 列的上限，请删去多余的列后再导入")
}

fn cell_too_long(row: i64) -> String {
    format!("第 {row} 行有单元格超过 {MAX_CELL_CHARS} 字的上限")
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
    let mut rec = csv::StringRecord::new();
    let mut i = 0i64;
    loop {
        match r.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(format!("第 {} 行无法按 CSV 读取：{e}", i + 1)),
        }
        i += 1;
        if rec.len() > MAX_COLS {
            return Err(too_many_cols(i));
        }
        if rec.iter().any(|c| c.chars().count() > MAX_CELL_CHARS) {
            return Err(cell_too_long(i));
        }
        let cells: Vec<String> = rec.iter().map(|c| c.trim().to_string()).collect();
        if i == 1 {
            out.headers = cells;
        } else if cells.iter().any(|c| !c.is_empty()) {
            if out.rows.len() >= MAX_ROWS {
                return Err(too_many_rows());
            }
            out.rows.push((i, cells));
        }
    }
    Ok(out)
}

/// What is left of the decompression budget, shared by every part of one file.
struct Budget {
    left: u64,
}

fn damaged(e: impl std::fmt::Display) -> String {
    format!("Excel 文件不完整或已损坏，无法读取（{e}）")
}

type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// The longest stretch of a part without a `<`: a cell's text or one tag. The XML reader
/// buffers such a stretch whole, so this bounds its memory whatever a cell holds.
const MAX_RUN: usize = 64 * 1024;

/// Streams one part of the zip through the budget to `f`; `None` when the part is absent.
fn with_part<T>(
    zip: &mut Archive,
    name: &str,
    budget: &mut Budget,
    f: impl FnOnce(&mut dyn std::io::BufRead) -> Result<T, String>,
) -> Result<Option<T>, String> {
    let file = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(damaged(e)),
    };
    let mut reader = std::io::BufReader::new(Metered { inner: file, budget, run: 0 });
    f(&mut reader).map(Some)
}

fn over_budget() -> String {
    format!("Excel 文件解压后超过 {} MB 的上限，请拆分后导入", MAX_DECOMPRESSED / 1024 / 1024)
}

/// Counts what a part decompresses to, stops at the budget, and refuses a stretch without
/// `<` longer than [`MAX_RUN`].
struct Metered<'b, R> {
    inner: R,
    budget: &'b mut Budget,
    run: usize,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.budget.left == 0 {
            return Err(std::io::Error::other(BUDGET_SPENT));
        }
        let want = buf.len().min(self.budget.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        self.budget.left -= n as u64;
        for b in &buf[..n] {
            if *b == b'<' {
                self.run = 0;
            } else {
                self.run += 1;
            }
        }
        if self.run > MAX_RUN {
            return Err(std::io::Error::other(RUN_TOO_LONG));
        }
        Ok(n)
    }
}

const BUDGET_SPENT: &str = "decompression budget spent";
const RUN_TOO_LONG: &str = "text run too long";

/// The number of entries the zip directory declares, read from its end record before the zip
/// reader builds a table of them all.
fn zip_entries(bytes: &[u8]) -> Option<usize> {
    // End of central directory: signature, then the entry total at offset 10 (u16). A comment
    // of up to 65,535 bytes may follow it.
    let from = bytes.len().saturating_sub(22 + 65_535);
    let at = (from..bytes.len().saturating_sub(21)).rev().find(|&i| bytes[i..i + 4] == *b"PK\x05\x06")?;
    Some(u16::from_le_bytes([bytes[at + 10], bytes[at + 11]]) as usize)
}

fn read_xlsx(bytes: &[u8]) -> Result<Upload, String> {
    read_xlsx_within(bytes, MAX_DECOMPRESSED)
}

fn read_xlsx_within(bytes: &[u8], budget: u64) -> Result<Upload, String> {
    match zip_entries(bytes) {
        None => return Err(damaged("找不到 zip 目录")),
        // 0xFFFF means a ZIP64 directory with the real count elsewhere: no workbook needs one.
        Some(n) if n > MAX_ZIP_ENTRIES => {
            return Err(format!("Excel 文件包含的部件超过 {MAX_ZIP_ENTRIES} 个的上限，不是正常的工作簿"));
        }
        Some(_) => {}
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(damaged)?;
    let budget = &mut Budget { left: budget };
    let Some(sheet_rel) = with_part(&mut zip, "xl/workbook.xml", budget, first_sheet)? else {
        return Err(UNSUPPORTED.into());
    };
    let target = with_part(&mut zip, "xl/_rels/workbook.xml.rels", budget, |r| sheet_target(r, sheet_rel.as_deref()))?;
    let sheet_path = target.flatten().unwrap_or_else(|| "xl/worksheets/sheet1.xml".into());
    let shared = with_part(&mut zip, "xl/sharedStrings.xml", budget, shared_strings)?.unwrap_or_default();
    let dates = with_part(&mut zip, "xl/styles.xml", budget, date_styles)?.unwrap_or_default();
    with_part(&mut zip, &sheet_path, budget, |r| read_sheet(r, &shared, &dates))?
        .ok_or_else(|| damaged("找不到第一个工作表"))
}

use quick_xml::events::{BytesStart, Event};

/// An attribute's value by local name, with the five predefined entities resolved.
fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.local_name().as_ref() == name).map(|a| unescape(&a.value))
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// The text of an entity reference inside character data (`amp`, `#x41`, …).
fn entity(r: &quick_xml::events::BytesRef, out: &mut String) {
    match &**r {
        "amp" => out.push('&'),
        "lt" => out.push('<'),
        "gt" => out.push('>'),
        "quot" => out.push('"'),
        "apos" => out.push('\''),
        _ => {
            if let Ok(Some(c)) = r.resolve_char_ref() {
                out.push(c);
            }
        }
    }
}

/// Walks a whole part's events with the depth limit; `f` sees each event.
fn walk(
    reader: &mut dyn std::io::BufRead,
    mut f: impl FnMut(&Event, usize) -> Result<(), String>,
) -> Result<(), String> {
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        buf.clear();
        let ev = xml.read_event_into(&mut buf).map_err(|e| {
            let text = e.to_string();
            if text.contains(BUDGET_SPENT) {
                over_budget()
            } else if text.contains(RUN_TOO_LONG) {
                format!("Excel 文件中有单元格超过 {MAX_CELL_CHARS} 字的上限")
            } else {
                damaged(e)
            }
        })?;
        match &ev {
            Event::Start(_) => {
                depth += 1;
                if depth > MAX_XML_DEPTH {
                    return Err(format!("Excel 文件的 XML 嵌套超过 {MAX_XML_DEPTH} 层的上限，不是正常的工作簿"));
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => return Ok(()),
            _ => {}
        }
        f(&ev, depth)?;
    }
}

/// The relationship id of the first `<sheet>` in the workbook, checking the sheet count.
fn first_sheet(xml: &mut dyn std::io::BufRead) -> Result<Option<String>, String> {
    let (mut count, mut first) = (0usize, None);
    walk(xml, |ev, _| {
        if let Event::Start(e) | Event::Empty(e) = ev
            && e.local_name().as_ref() == "sheet"
        {
            count += 1;
            if count > MAX_SHEETS {
                return Err(format!("Excel 文件的工作表超过 {MAX_SHEETS} 个的上限"));
            }
            if first.is_none() {
                first = Some(attr(e, "id"));
            }
        }
        Ok(())
    })?;
    match first {
        None => Err("Excel 文件没有工作表".into()),
        Some(id) => Ok(id),
    }
}

/// The zip path of the relationship `id` (relative to `xl/` unless absolute).
fn sheet_target(xml: &mut dyn std::io::BufRead, id: Option<&str>) -> Result<Option<String>, String> {
    let Some(id) = id else { return Ok(None) };
    let mut target = None;
    walk(xml, |ev, _| {
        if let Event::Start(e) | Event::Empty(e) = ev
            && e.local_name().as_ref() == "Relationship"
            && attr(e, "Id").as_deref() == Some(id)
        {
            target = attr(e, "Target");
        }
        Ok(())
    })?;
    Ok(target.map(|t| match t.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None => format!("xl/{t}"),
    }))
}

/// The shared-string table: each `<si>`'s text runs (`<t>`), phonetic runs (`<rPh>`) left out.
fn shared_strings(xml: &mut dyn std::io::BufRead) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut total = 0usize;
    let (mut cur, mut in_t, mut in_ph) = (String::new(), false, false);
    walk(xml, |ev, _| {
        match ev {
            Event::Start(e) => match e.local_name().as_ref() {
                "si" => cur.clear(),
                "t" => in_t = true,
                "rPh" => in_ph = true,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == "si" => {
                cur.clear();
                push_shared(&mut out, &mut total, &mut cur)?;
            }
            Event::End(e) => match e.local_name().as_ref() {
                "si" => push_shared(&mut out, &mut total, &mut cur)?,
                "t" => in_t = false,
                "rPh" => in_ph = false,
                _ => {}
            },
            Event::Text(t) if in_t && !in_ph => cur.push_str(&t.xml10_content()),
            Event::CData(t) if in_t && !in_ph => cur.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_t && !in_ph => entity(r, &mut cur),
            _ => {}
        }
        if cur.len() > MAX_CELL_CHARS * 4 {
            return Err(format!("Excel 文件中有单元格超过 {MAX_CELL_CHARS} 字的上限"));
        }
        Ok(())
    })?;
    Ok(out)
}

fn push_shared(out: &mut Vec<String>, total: &mut usize, cur: &mut String) -> Result<(), String> {
    *total += cur.len();
    if *total > MAX_SHARED_BYTES {
        return Err(format!("Excel 文件的文字内容超过 {} MB 的上限，请拆分后导入", MAX_SHARED_BYTES / 1024 / 1024));
    }
    if out.len() >= MAX_SHARED_STRINGS {
        return Err(format!("Excel 文件的共享字符串超过 {MAX_SHARED_STRINGS} 个的上限"));
    }
    if cur.chars().count() > MAX_CELL_CHARS {
        return Err(format!("Excel 文件中有单元格超过 {MAX_CELL_CHARS} 字的上限"));
    }
    out.push(std::mem::take(cur));
    Ok(())
}

/// For each cell style (`cellXfs` index), whether its number format shows a date.
fn date_styles(xml: &mut dyn std::io::BufRead) -> Result<Vec<bool>, String> {
    let mut custom: Vec<(u32, bool)> = vec![];
    let mut xfs: Vec<u32> = vec![];
    let mut in_xfs = false;
    walk(xml, |ev, _| {
        match ev {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "numFmt" => {
                    if let (Some(id), Some(code)) = (attr(e, "numFmtId"), attr(e, "formatCode"))
                        && let Ok(id) = id.parse()
                        && custom.len() < 10_000
                    {
                        custom.push((id, is_date_format(&code)));
                    }
                }
                "cellXfs" if matches!(ev, Event::Start(_)) => in_xfs = true,
                "xf" if in_xfs => {
                    if xfs.len() >= 100_000 {
                        return Err("Excel 文件的单元格样式过多，不是正常的工作簿".into());
                    }
                    xfs.push(attr(e, "numFmtId").and_then(|v| v.parse().ok()).unwrap_or(0));
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "cellXfs" => in_xfs = false,
            _ => {}
        }
        Ok(())
    })?;
    Ok(xfs
        .into_iter()
        .map(|id| match custom.iter().find(|(c, _)| *c == id) {
            Some((_, d)) => *d,
            // Built-in date formats (ECMA-376 18.8.30, and the CJK ones Excel uses in China).
            None => matches!(id, 14..=22 | 27..=36 | 45..=47 | 50..=58),
        })
        .collect())
}

/// A custom format shows a date when, outside quoted text and `[…]`, it has y or d
/// (`yyyy-mm-dd`, `yyyy"年"m"月"d"日"`); `0.00` or `#,##0` do not.
fn is_date_format(code: &str) -> bool {
    let (mut quoted, mut bracket) = (false, false);
    for c in code.chars() {
        match c {
            '"' => quoted = !quoted,
            '[' if !quoted => bracket = true,
            ']' if !quoted => bracket = false,
            'y' | 'Y' | 'd' | 'D' if !quoted && !bracket => return true,
            _ => {}
        }
    }
    false
}

/// `B12` → column 1 (0-based).
fn column_of(r: &str) -> Option<usize> {
    let letters: String = r.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    Some(letters.bytes().fold(0usize, |n, b| n * 26 + (b.to_ascii_uppercase() - b'A') as usize + 1) - 1)
}

/// The worksheet, streamed: rows and cells as they come, nothing sized from `<dimension>`.
fn read_sheet(reader: &mut dyn std::io::BufRead, shared: &[String], dates: &[bool]) -> Result<Upload, String> {
    let mut rows: Vec<(i64, Vec<(usize, String)>)> = vec![];
    let mut row_no = 0i64;
    let mut cells: Vec<(usize, String)> = vec![];
    let mut next_col = 0usize;
    let (mut col, mut kind, mut style) = (0usize, String::new(), 0usize);
    let (mut value, mut in_value) = (String::new(), false);
    let mut data_rows = 0usize;
    let mut min_col = usize::MAX;
    walk(reader, |ev, _| {
        match ev {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "row" => {
                row_no = attr(e, "r").and_then(|r| r.parse().ok()).unwrap_or(row_no + 1);
                cells.clear();
                next_col = 0;
                if matches!(ev, Event::Empty(_)) {
                    cells.clear();
                }
            }
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "c" => {
                col = attr(e, "r").and_then(|r| column_of(&r)).unwrap_or(next_col);
                if col >= MAX_COLS {
                    return Err(too_many_cols(row_no));
                }
                next_col = col + 1;
                kind = attr(e, "t").unwrap_or_default();
                style = attr(e, "s").and_then(|s| s.parse().ok()).unwrap_or(0);
                value.clear();
            }
            Event::Start(e) if matches!(e.local_name().as_ref(), "v" | "t") => in_value = true,
            Event::End(e) if matches!(e.local_name().as_ref(), "v" | "t") => in_value = false,
            Event::Text(t) if in_value => value.push_str(&t.xml10_content()),
            Event::CData(t) if in_value => value.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_value => entity(r, &mut value),
            Event::End(e) if e.local_name().as_ref() == "c" => {
                let text = cell_text(&kind, &value, dates.get(style).copied().unwrap_or(false), shared)?;
                if text.chars().count() > MAX_CELL_CHARS {
                    return Err(cell_too_long(row_no));
                }
                if !text.is_empty() {
                    min_col = min_col.min(col);
                    cells.push((col, text));
                }
            }
            Event::End(e) if e.local_name().as_ref() == "row" && !cells.is_empty() => {
                if !rows.is_empty() {
                    data_rows += 1;
                    if data_rows > MAX_ROWS {
                        return Err(too_many_rows());
                    }
                }
                rows.push((row_no, std::mem::take(&mut cells)));
            }
            _ => {}
        }
        if value.len() > MAX_CELL_CHARS * 4 {
            return Err(cell_too_long(row_no));
        }
        Ok(())
    })?;
    // Columns left of the first used one are dropped, as a sheet's used range begins there.
    let shift = if min_col == usize::MAX { 0 } else { min_col };
    let mut out = Upload::default();
    for (i, (no, cells)) in rows.into_iter().enumerate() {
        let width = cells.iter().map(|(c, _)| c + 1 - shift).max().unwrap_or(0);
        let mut line = vec![String::new(); width];
        for (c, t) in cells {
            line[c - shift] = t;
        }
        if i == 0 {
            out.headers = line;
        } else {
            out.rows.push((no, line));
        }
    }
    Ok(out)
}

/// A cell's text by its type: shared string, inline or formula string, boolean, error, ISO
/// date, or number (a date serial when its style shows a date). Numbers keep the text the file
/// stores, so no amount passes through floating point.
fn cell_text(kind: &str, value: &str, is_date: bool, shared: &[String]) -> Result<String, String> {
    Ok(match kind {
        "s" => {
            let i: usize = value.trim().parse().map_err(|_| damaged("共享字符串序号无效"))?;
            shared.get(i).ok_or_else(|| damaged("共享字符串序号超出范围"))?.trim().to_string()
        }
        "str" | "inlineStr" => value.trim().to_string(),
        "b" => match value.trim() {
            "1" => "是".into(),
            "0" => "否".into(),
            _ => String::new(),
        },
        "e" => String::new(),
        "d" => value.trim().chars().take(10).collect(),
        _ => {
            let v = value.trim();
            if is_date && let Some(d) = serial_date(v) { d } else { plain_number(v) }
        }
    })
}

/// `46331` stays, `46331.0` → `46331`, `7800.5` stays; exponent forms stay as written.
fn plain_number(v: &str) -> String {
    match v.split_once('.') {
        Some((int, frac)) if !int.is_empty() && frac.bytes().all(|b| b == b'0') && !frac.is_empty() => int.to_string(),
        _ => v.to_string(),
    }
}

/// Excel's day serial (1900 system, day 0 = 1899-12-30) as `YYYY-MM-DD`; the time of day is
/// dropped. `None` for anything that is not a plausible serial.
fn serial_date(serial: &str) -> Option<String> {
    let days: i64 = serial.split('.').next()?.parse().ok()?;
    if !(1..=2_958_465).contains(&days) {
        return None;
    }
    let base = time::macros::date!(1899 - 12 - 30);
    base.checked_add(time::Duration::days(days)).map(|d| d.to_string())
}

#[cfg(test)]
mod tests;
