//! `leakledger`: parse arguments, run the subcommand, map the outcome to an exit
//! code (0 done, 1 a gate found something, 2 usage or input error; a closed
//! output pipe is 0).

mod cli;
mod cost;
mod gate;
mod output;
mod report;
mod rules;
mod scan;
mod synth;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    // A panic's message can quote the data being handled, and that data is the
    // dump (secrets included): report where, never what.
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        #[allow(clippy::print_stderr)]
        {
            eprintln!("leakledger: internal error at {at} (message withheld: it may quote dump bytes)");
        }
    }));
    // A mapped input truncated by another process raises SIGBUS: say which
    // file and exit 2 rather than die silently (docs/security.md). Without the
    // guard the scan still runs; it only loses that message.
    let _ = leakledger::install_sigbus_guard();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let result = match cli.command {
        Command::Scan(args) => scan::run(&args),
        Command::Synth(args) => synth::run(&args),
        Command::Cost(args) => cost::run(&args),
        Command::Gate(args) => gate::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Demo(args) => report::demo(&args),
        Command::Rules(args) => rules::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("leakledger: {}", output::term_safe(&format!("{e:#}")));
            }
            ExitCode::from(2)
        }
    }
}
