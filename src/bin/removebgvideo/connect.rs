//! The client every command uses: the real API when a key is set, else the built-in simulator
//! (and a line on standard error saying so).

use removebgvideo::client::API_KEY_ENV;
use removebgvideo::simulator::Simulator;
use removebgvideo::Client;

use crate::Failure;

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
        eprintln!("Using the RemoveBGVideo API at {} ({API_KEY_ENV} is set).", client.base_url());
        return Ok(Connection { client, simulator: None });
    }
    let simulator = Simulator::builder()
        .polls_to_complete(polls)
        .start()
        .map_err(|error| Failure(format!("could not start the simulator: {error}"), 1))?;
    eprintln!("No {API_KEY_ENV} set: running offline against the built-in API simulator at {}.", simulator.base_url());
    let client = simulator.client()?;
    Ok(Connection { client, simulator: Some(simulator) })
}
