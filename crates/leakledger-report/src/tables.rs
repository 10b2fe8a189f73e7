//! The report's tables as polars frames, written as Parquet and CSV: typed
//! columns (counts as unsigned integers, times as UTC timestamps in
//! microseconds) so that polars, pandas and DuckDB read them as they are.

use leakledger::{Analysis, Location};
use polars::prelude::*;

use crate::Error;
use crate::escape::csv_cell;

/// One of the report's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// One row per organisation.
    Organizations,
    /// One row per repository.
    Repositories,
    /// One row per exposed file.
    Files,
    /// One row per distinct secret (redacted).
    Secrets,
    /// One row per chain.
    Chains,
    /// One row per distinct request.
    Requests,
}

/// Every table, in the order they are written.
pub const ALL: &[Table] =
    &[Table::Organizations, Table::Repositories, Table::Files, Table::Secrets, Table::Chains, Table::Requests];

impl Table {
    /// Its file name without extension.
    pub fn name(self) -> &'static str {
        match self {
            Table::Organizations => "organizations",
            Table::Repositories => "repositories",
            Table::Files => "files",
            Table::Secrets => "secrets",
            Table::Chains => "chains",
            Table::Requests => "requests",
        }
    }
}

/// Columns being built. For CSV, string cells are neutralised against formula
/// injection ([`csv_cell`]); Parquet keeps them as they are.
struct Cols {
    cols: Vec<Column>,
    csv: bool,
}

impl Cols {
    fn str(&mut self, name: &str, v: Vec<String>) {
        let v: Vec<String> = if self.csv { v.iter().map(|s| csv_cell(s).into_owned()).collect() } else { v };
        self.cols.push(Column::new(name.into(), v));
    }
    fn u64(&mut self, name: &str, v: Vec<u64>) {
        self.cols.push(Column::new(name.into(), v));
    }
    fn opt_u64(&mut self, name: &str, v: Vec<Option<u64>>) {
        self.cols.push(Column::new(name.into(), v));
    }
    fn time(&mut self, name: &str, v: Vec<Option<i64>>) -> PolarsResult<()> {
        let s = Series::new(name.into(), v).cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))?;
        self.cols.push(s.into());
        Ok(())
    }
    /// `{prefix}_source`, `{prefix}_offset`, `{prefix}_line` of each location.
    fn locations(&mut self, a: &Analysis, prefix: &str, locs: &[Option<Location>]) {
        let src = |l: &Location| a.scan.sources.get(l.source.0 as usize).map(|s| s.path.display().to_string());
        self.str(
            &format!("{prefix}_source"),
            locs.iter().map(|l| l.and_then(|l| src(&l)).unwrap_or_default()).collect(),
        );
        self.opt_u64(&format!("{prefix}_offset"), locs.iter().map(|l| l.map(|l| l.offset)).collect());
        self.opt_u64(&format!("{prefix}_line"), locs.iter().map(|l| l.and_then(|l| a.scan.line(&l))).collect());
    }
    fn frame(self) -> PolarsResult<DataFrame> {
        DataFrame::new_infer_height(self.cols)
    }
}

/// The frame of `table`; `csv` neutralises string cells for spreadsheets.
pub fn frame(a: &Analysis, table: Table, csv: bool) -> PolarsResult<DataFrame> {
    let mut c = Cols { cols: Vec::new(), csv };
    let inv = &a.inventory;
    match table {
        Table::Organizations => {
            let entries = inv.organization_entries();
            let by = &a.summary.by_organization;
            let get = |o: &str| by.get(o).cloned().unwrap_or_default();
            let ids = inv.identifiers();
            c.str("organization", entries.iter().map(|(o, _)| o.to_string()).collect());
            c.u64("records", entries.iter().map(|(o, _)| get(o).records).collect());
            c.u64("repositories", entries.iter().map(|(o, _)| get(o).repositories).collect());
            c.u64("files", entries.iter().map(|(o, _)| get(o).files).collect());
            for sev in ["critical", "high", "medium", "low"] {
                let n = |o: &str| get(o).secrets.get(sev).copied().unwrap_or(0);
                c.u64(&format!("secrets_{sev}"), entries.iter().map(|(o, _)| n(o)).collect());
            }
            c.u64(
                "identifiers",
                entries.iter().map(|(o, _)| ids.iter().filter(|(org, _, _)| org == o).count() as u64).collect(),
            );
            let firsts: Vec<Option<Location>> = entries.iter().map(|(_, e)| e.first).collect();
            c.locations(a, "first", &firsts);
        }
        Table::Repositories => {
            let repos = inv.repositories();
            let files = inv.files_per_repository();
            c.str("repository", repos.iter().map(|r| r.key.clone()).collect());
            c.str("organization", repos.iter().map(|r| r.org.clone()).collect());
            c.u64("files", repos.iter().map(|r| files.get(r.key.as_str()).copied().unwrap_or(0)).collect());
            c.locations(a, "first", &repos.iter().map(|r| Some(r.first)).collect::<Vec<_>>());
        }
        Table::Files => {
            let files = inv.files();
            c.str("repository", files.iter().map(|f| f.repository.clone()).collect());
            c.str("path", files.iter().map(|f| f.path.clone()).collect());
            c.str("organization", files.iter().map(|f| f.org.clone()).collect());
            c.str("language", files.iter().map(|f| f.language.to_string()).collect());
            c.u64("bytes", files.iter().map(|f| f.bytes).collect());
            c.locations(a, "first", &files.iter().map(|f| Some(f.first)).collect::<Vec<_>>());
        }
        Table::Secrets => {
            let s = inv.secrets();
            c.str("fingerprint", s.iter().map(|e| e.found.fingerprint.to_string()).collect());
            c.str("kind", s.iter().map(|e| e.found.kind.to_string()).collect());
            c.str("severity", s.iter().map(|e| e.found.severity.name().to_string()).collect());
            c.str("redacted", s.iter().map(|e| e.found.redacted()).collect());
            if a.secret_values.is_some() {
                let value =
                    |e: &&leakledger::SecretEntry| a.secret_value(&e.found.fingerprint).unwrap_or("").to_string();
                c.str("value", s.iter().map(value).collect());
            }
            c.u64("occurrences", s.iter().map(|e| e.occurrences).collect());
            c.u64("organizations", s.iter().map(|e| e.holders.len() as u64).collect());
            c.str(
                "holders",
                s.iter().map(|e| e.holders.iter().map(String::as_str).collect::<Vec<_>>().join("; ")).collect(),
            );
            c.time("first_seen", s.iter().map(|e| e.first_seen).collect())?;
            c.time("last_seen", s.iter().map(|e| e.last_seen).collect())?;
            c.locations(a, "first", &s.iter().map(|e| Some(e.first)).collect::<Vec<_>>());
        }
        Table::Chains => {
            let ch = &a.chain_entries;
            c.u64("chain", ch.iter().map(|e| u64::from(e.id)).collect());
            c.str("organization", ch.iter().map(|e| e.org.clone()).collect());
            c.str("user", ch.iter().map(|e| e.user.clone()).collect());
            c.str("repository", ch.iter().map(|e| e.repository.clone()).collect());
            c.time("first", ch.iter().map(|e| e.first).collect())?;
            c.time("last", ch.iter().map(|e| e.last).collect())?;
            c.u64("requests", ch.iter().map(|e| e.requests).collect());
            c.u64("files", ch.iter().map(|e| e.files).collect());
            c.u64("code_bytes", ch.iter().map(|e| e.code_bytes).collect());
            c.u64("secrets", ch.iter().map(|e| e.secrets.len() as u64).collect());
            c.u64("sources", ch.iter().map(|e| e.sources.len() as u64).collect());
            c.u64("skewed", ch.iter().map(|e| e.skewed).collect());
        }
        Table::Requests => {
            let r: Vec<_> = a.requests.iter().collect();
            c.u64("request", r.iter().map(|r| u64::from(r.index)).collect());
            c.time("time", r.iter().map(|r| r.time).collect())?;
            c.str("organization", r.iter().map(|r| r.org.to_string()).collect());
            c.str("user", r.iter().map(|r| r.user.to_string()).collect());
            c.u64("chain", r.iter().map(|r| u64::from(r.chain)).collect());
            c.u64("files", r.iter().map(|r| u64::from(r.files)).collect());
            c.u64("secrets", r.iter().map(|r| u64::from(r.secrets)).collect());
            c.locations(a, "record", &r.iter().map(|r| Some(r.location)).collect::<Vec<_>>());
        }
    }
    c.frame()
}

/// Every table as a frame (values as they are, for analysts' tools).
pub fn frames(a: &Analysis) -> PolarsResult<Vec<(&'static str, DataFrame)>> {
    ALL.iter().map(|&t| Ok((t.name(), frame(a, t, false)?))).collect()
}

/// `table` encoded as Parquet (zstd) and as CSV (UTF-8, header, RFC 3339 times).
pub fn encode(a: &Analysis, table: Table) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let err = |e: PolarsError| Error::Table { name: table.name().to_string(), reason: e.to_string() };
    let mut df = frame(a, table, false).map_err(err)?;
    let mut parquet = Vec::new();
    ParquetWriter::new(&mut parquet).finish(&mut df).map_err(err)?;
    let mut df = frame(a, table, true).map_err(err)?;
    let mut csv = Vec::new();
    CsvWriter::new(&mut csv)
        .include_header(true)
        .with_datetime_format(Some("%Y-%m-%dT%H:%M:%S%.6fZ".into()))
        .finish(&mut df)
        .map_err(err)?;
    Ok((parquet, csv))
}
