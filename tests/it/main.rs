//! The integration tests: one binary, one module per concern, so that a change in `src/` relinks
//! one test executable rather than thirty. `support` holds every shared helper (mock-server
//! clients, the batch fixtures, the webhook receiver). A test that needs a process of its own
//! (it changes process-wide state, such as environment variables) is a binary beside this one.

mod support;

mod answers;
mod async_client;
mod async_runtime;
mod async_service;
mod batch;
mod batch_resume;
mod batch_safety;
mod calls;
// The command, through the binary cargo builds for the tests (feature `cli`).
#[cfg(all(unix, feature = "cli"))]
mod cli;
#[cfg(all(unix, feature = "cli"))]
mod cli_run;
mod compose;
mod compose_safety;
mod concurrency;
mod credentials;
mod decode_props;
mod download;
mod edge_props;
mod error_codes;
mod errors;
mod faults;
mod models;
mod one_stack;
mod process_stages;
mod production_client;
// The PostgreSQL queue with worker processes of the command.
#[cfg(all(unix, feature = "cli", feature = "postgres"))]
mod queue;
// The queue on TLS servers, behind PgBouncer, through blips, as a read-only role.
#[cfg(all(unix, feature = "cli", feature = "postgres"))]
mod queue_net;
// Operating a queue: stats, cancel, the cap on lost workers, failed items put back.
#[cfg(all(unix, feature = "cli", feature = "postgres"))]
mod queue_ops;
mod request_options;
mod resumable_download;
mod retries;
mod secret_props;
mod simulator;
mod simulator_as_user;
mod simulator_bounds;
mod simulator_contract;
#[cfg(all(unix, feature = "cli"))]
mod simulator_daemon;
mod simulator_service;
mod tracing_spans;
mod tracker;
mod transfers;
mod transport_faults;
mod wait;
mod webhook;
mod webhook_axum;
mod webhook_props;
mod webhook_vectors;
