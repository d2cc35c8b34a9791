//! The client every command uses: the real API when a key is set, else a simulator started for
//! this command alone (and lines on standard error saying so, and what that means).

use removebgvideo::client::API_KEY_ENV;
use removebgvideo::simulator::Simulator;
use removebgvideo::Client;

use crate::failure::Failure;
use crate::ui::note;

/// A client, and the simulator it talks to when running offline (kept alive as long as it).
pub(crate) struct Connection {
    pub(crate) client: Client,
    pub(crate) simulator: Option<Simulator>,
}

impl Connection {
    pub(crate) fn offline(&self) -> bool {
        self.simulator.is_some()
    }
}

/// Connects; offline, the simulator's jobs complete after `polls` polls.
pub(crate) fn connect(polls: u32) -> Result<Connection, Failure> {
    if std::env::var_os(API_KEY_ENV).is_some() {
        let client = Client::from_env()?;
        note(format!("Using the RemoveBGVideo API at {} ({API_KEY_ENV} is set).", client.base_url()));
        return Ok(Connection { client, simulator: None });
    }
    let simulator = Simulator::builder()
        .polls_to_complete(polls)
        .start()
        .map_err(|error| Failure(format!("could not start the simulator: {error}"), 1))?;
    note(format!(
        "No {API_KEY_ENV} set: running offline against the built-in API simulator at {}.\n\
         This simulator lives only as long as this command: it sees only the jobs this command makes, and \
         costs nothing. For one that keeps its jobs across commands, run `removebgvideo simulator` in another \
         terminal and set the variables it prints.",
        simulator.base_url()
    ));
    let client = simulator.client()?;
    Ok(Connection { client, simulator: Some(simulator) })
}
