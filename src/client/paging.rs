//! Every job, page after page: `list_all_jobs` on both clients.

use std::collections::VecDeque;
use std::fmt;

use crate::client::async_client::AsyncClient;
use crate::client::blocking::Client;
use crate::client::error::Error;
use crate::models::{Job, ListJobs};

/// All jobs matching a query, fetched a page at a time as they are read, from
/// [`AsyncClient::list_all_jobs`]. Read it with [`next`](Self::next). It owns a clone of the
/// client, so it can be kept or moved into a task.
///
/// It stops after a page shorter than the query's limit (or empty), and after an error, which
/// it yields once.
#[must_use = "it fetches nothing until `next` is awaited"]
pub struct AsyncAllJobs {
    client: AsyncClient,
    query: ListJobs,
    page: VecDeque<Job>,
    done: bool,
}

impl AsyncAllJobs {
    /// The next job; `None` once all are read.
    pub async fn next(&mut self) -> Option<Result<Job, Error>> {
        if self.page.is_empty() && !self.done {
            match self.client.list_jobs(&self.query).await {
                Ok(list) => {
                    let read = u32::try_from(list.items.len()).unwrap_or(u32::MAX);
                    self.done = read < self.query.limit;
                    self.query.offset = self.query.offset.saturating_add(read);
                    self.page = list.items.into();
                }
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
        self.page.pop_front().map(Ok)
    }
}

/// All jobs matching a query, fetched a page at a time as they are iterated, from
/// [`Client::list_all_jobs`]. It stops after a page shorter than the query's limit (or empty),
/// and after an error, which it yields once.
#[must_use = "an iterator fetches nothing until it is iterated"]
pub struct AllJobs {
    client: Client,
    /// Lent to the task that fetches the next page, and given back with it.
    pager: Option<AsyncAllJobs>,
}

impl Iterator for AllJobs {
    type Item = Result<Job, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut pager = self.pager.take()?;
        let fetched = self.client.runtime.run(async move {
            let item = pager.next().await;
            Ok((pager, item))
        });
        match fetched {
            Ok((pager, item)) => {
                self.pager = Some(pager);
                item
            }
            Err(error) => Some(Err(error)),
        }
    }
}

impl AsyncClient {
    /// Every job matching `query`, from its offset on, `query`'s limit per request (like
    /// Stripe's `auto_paging_iter`).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), removebgvideo::Error> {
    /// use removebgvideo::models::ListJobs;
    /// use removebgvideo::{AsyncClient, JobStatus};
    ///
    /// let client = AsyncClient::from_env()?;
    /// let mut jobs = client.list_all_jobs(&ListJobs::new().limit(100).status(JobStatus::Failed));
    /// while let Some(job) = jobs.next().await {
    ///     println!("{}", job?.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_all_jobs(&self, query: &ListJobs) -> AsyncAllJobs {
        AsyncAllJobs { client: self.clone(), query: query.clone(), page: VecDeque::new(), done: false }
    }
}

impl Client {
    /// Every job matching `query`, from its offset on, `query`'s limit per request.
    ///
    /// ```no_run
    /// use removebgvideo::models::ListJobs;
    /// use removebgvideo::Client;
    ///
    /// let client = Client::from_env()?;
    /// for job in client.list_all_jobs(&ListJobs::new().limit(100)) {
    ///     println!("{}", job?.id);
    /// }
    /// # Ok::<(), removebgvideo::Error>(())
    /// ```
    pub fn list_all_jobs(&self, query: &ListJobs) -> AllJobs {
        AllJobs { client: self.clone(), pager: Some(self.inner.list_all_jobs(query)) }
    }
}

impl fmt::Debug for AsyncAllJobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncAllJobs").field("query", &self.query).field("done", &self.done).finish_non_exhaustive()
    }
}

impl fmt::Debug for AllJobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AllJobs").field("pager", &self.pager).finish()
    }
}
