//! `simulator`: the built-in API simulator, served standalone; its flags are in
//! `simulator/flags.rs`, raising the open-file limit in `simulator/file_limit.rs`.

use crate::failure::Failure;

mod file_limit;
mod flags;

/// `removebgvideo simulator`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    flags: flags::SimulatorFlags,
}

pub(crate) fn main(args: &Args) -> Result<u8, Failure> {
    file_limit::raise_for(args.flags.max_connections);
    let simulator = args.flags.builder().start().map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidInput => Failure::usage(e.to_string()),
        _ => Failure(format!("could not start the simulator on 127.0.0.1: {e}"), 1),
    })?;
    flags::serve(simulator, &args.flags).map_err(|message| Failure(message, 1))?;
    Ok(0)
}
