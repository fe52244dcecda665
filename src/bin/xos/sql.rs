//! `xos sql`: print the warehouse query that yields the spec's aggregated CSV.

use crate::cli::out;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use xos::sql::{Dialect, TableName};

use crate::cli::{CommandResult, ErrorFormat, Exit, print_diagnostics};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    Duckdb,
    Postgres,
    Bigquery,
    Snowflake,
    Trino,
    Spark,
}

impl From<DialectArg> for Dialect {
    fn from(dialect: DialectArg) -> Dialect {
        match dialect {
            DialectArg::Duckdb => Dialect::DuckDb,
            DialectArg::Postgres => Dialect::Postgres,
            DialectArg::Bigquery => Dialect::BigQuery,
            DialectArg::Snowflake => Dialect::Snowflake,
            DialectArg::Trino => Dialect::Trino,
            DialectArg::Spark => Dialect::Spark,
        }
    }
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// An experiment spec.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The SQL dialect of the engine that holds the per-unit table.
    #[arg(long, value_enum)]
    pub dialect: DialectArg,
    /// The per-unit table: `table`, `schema.table` or `catalog.schema.table`
    /// (a part in double quotes may hold dots).
    #[arg(long, value_name = "TABLE")]
    pub table: String,
    #[command(flatten)]
    pub containment: crate::cli::PathArgs,
}

pub fn sql_command(args: &SqlArgs) -> CommandResult {
    let table = TableName::parse(&args.table)?;
    let checked = xos::load_plan(&args.file, &args.containment.load_options())?;
    let source = xos::check::read_source(&args.file).ok();
    let query = xos::sql::query(&checked.plan, source.as_ref(), args.dialect.into(), &table)?;
    print_diagnostics(&checked.warnings, ErrorFormat::Human);
    out!("{query}");
    Ok(Exit::Success)
}
