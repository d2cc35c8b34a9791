//! Every job, page after page: `list_all_jobs` on both clients.

use std::collections::VecDeque;
use std::fmt;

use crate::{AsyncClient, Client, Error, Job, ListJobs};

/// All jobs matching a query, fetched a page at a time as they are read, from
/// [`AsyncClient::list_all_jobs`]. Read it with [`next`](Self::next).
///
/// It stops after a page shorter than the query's limit (or empty), and after an error, which
/// it yields once.
#[must_use = "a pager fetches nothing until `next` is awaited"]
pub struct AsyncJobPager<'a> {
    client: &'a AsyncClient,
    query: ListJobs,
    page: VecDeque<Job>,
    done: bool,
}

impl AsyncJobPager<'_> {
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
pub struct JobPages<'a> {
    client: &'a Client,
    pager: AsyncJobPager<'a>,
}

impl Iterator for JobPages<'_> {
    type Item = Result<Job, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let pager = &mut self.pager;
        self.client.runtime.block_on(async { Ok(pager.next().await) }).unwrap_or_else(|error| Some(Err(error)))
    }
}

impl AsyncClient {
    /// Every job matching `query`, from its offset on, `query`'s limit per request (like
    /// Stripe's `auto_paging_iter`).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), removebgvideo::Error> {
    /// use removebgvideo::{AsyncClient, JobStatus, ListJobs};
    ///
    /// let client = AsyncClient::from_env()?;
    /// let mut jobs = client.list_all_jobs(&ListJobs::new().limit(100).status(JobStatus::Failed));
    /// while let Some(job) = jobs.next().await {
    ///     println!("{}", job?.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_all_jobs(&self, query: &ListJobs) -> AsyncJobPager<'_> {
        AsyncJobPager { client: self, query: query.clone(), page: VecDeque::new(), done: false }
    }
}

impl Client {
    /// Every job matching `query`, from its offset on, `query`'s limit per request.
    ///
    /// ```no_run
    /// use removebgvideo::{Client, ListJobs};
    ///
    /// let client = Client::from_env()?;
    /// for job in client.list_all_jobs(&ListJobs::new().limit(100)) {
    ///     println!("{}", job?.id);
    /// }
    /// # Ok::<(), removebgvideo::Error>(())
    /// ```
    pub fn list_all_jobs(&self, query: &ListJobs) -> JobPages<'_> {
        JobPages { client: self, pager: self.inner.list_all_jobs(query) }
    }
}

impl fmt::Debug for AsyncJobPager<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncJobPager").field("query", &self.query).field("done", &self.done).finish_non_exhaustive()
    }
}

impl fmt::Debug for JobPages<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobPages").field("pager", &self.pager).finish()
    }
}
