//! Table exports every list reuses: CSV (UTF-8 with BOM, so Excel opens Chinese correctly) and
//! Excel .xlsx. Money is exported as yuan numbers with two decimals, never as floats of fen.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::Money;
use rust_xlsxwriter::{Format, Workbook};

#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Int(i64),
    Money(Money),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}
impl From<Money> for Cell {
    fn from(v: Money) -> Self {
        Cell::Money(v)
    }
}
impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Self {
        Cell::Text(v.unwrap_or_default())
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    /// Used as the sheet name and file name, e.g. 市场主体.
    pub title: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn parse(s: Option<&str>) -> Option<ExportFormat> {
        match s {
            Some("csv") => Some(ExportFormat::Csv),
            Some("xlsx") => Some(ExportFormat::Xlsx),
            _ => None,
        }
    }
}

impl Table {
    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
        w.write_record(&self.headers).expect("write to memory");
        for r in &self.rows {
            let rec: Vec<String> = r
                .iter()
                .map(|c| match c {
                    Cell::Text(s) => guard_formula(s),
                    Cell::Int(i) => i.to_string(),
                    Cell::Money(m) => m.to_yuan_string(),
                })
                .collect();
            w.write_record(&rec).expect("write to memory");
        }
        w.into_inner().expect("flush to memory")
    }

    pub fn to_xlsx(&self) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut wb = Workbook::new();
        let sheet = wb.add_worksheet();
        let name: String = self.title.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
        sheet.set_name(if name.is_empty() { "Sheet1" } else { &name })?;
        let bold = Format::new().set_bold();
        let money = Format::new().set_num_format("#,##0.00");
        for (c, h) in self.headers.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *h, &bold)?;
            sheet.set_column_width(c as u16, (h.chars().count() as f64 * 2.2).max(12.0))?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    // Strings are written as strings, so "=…" is never evaluated as a formula.
                    Cell::Text(s) => sheet.write_string(r, c, s)?,
                    Cell::Int(i) => sheet.write_number(r, c, *i as f64)?,
                    // Fen → yuan for display in Excel; the exact text is in the CSV export.
                    Cell::Money(m) => sheet.write_number_with_format(r, c, m.fen() as f64 / 100.0, &money)?,
                };
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        wb.save_to_buffer()
    }

    pub fn into_response(self, format: ExportFormat) -> Response {
        let (bytes, ctype, ext) = match format {
            ExportFormat::Csv => (Ok(self.to_csv()), "text/csv; charset=utf-8", "csv"),
            ExportFormat::Xlsx => {
                (self.to_xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
            }
        };
        match bytes {
            Ok(b) => {
                let filename = format!("{}.{ext}", self.title);
                let disposition = format!(
                    "attachment; filename=\"export.{ext}\"; filename*=UTF-8''{}",
                    crate::cookies::encode(&filename)
                );
                let mut r = b.into_response();
                r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
                r.headers_mut()
                    .insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("ascii"));
                r
            }
            Err(e) => crate::error::PageError(crate::error::AppError::internal(e)).into_response(),
        }
    }
}

/// Cells starting with = + - @ are prefixed with ' so spreadsheets do not run them as formulas.
fn guard_formula(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            title: "市场主体".into(),
            headers: vec!["名称", "人数", "注册资本（元）"],
            rows: vec![
                vec!["亳州市华佗药业有限公司".into(), 12i64.into(), Money::from_fen(123456).into()],
                vec!["=cmd".into(), 0i64.into(), Money::ZERO.into()],
            ],
        }
    }

    #[test]
    fn csv_has_bom_and_exact_money() {
        let csv = String::from_utf8(table().to_csv()).unwrap();
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("亳州市华佗药业有限公司,12,1234.56"));
        assert!(csv.contains("'=cmd"));
    }

    #[test]
    fn xlsx_is_a_zip() {
        let b = table().to_xlsx().unwrap();
        assert_eq!(&b[..2], b"PK");
    }
}
