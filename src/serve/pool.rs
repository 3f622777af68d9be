//! A bounded pool of simulation workers shared fairly between clients: each client has its own
//! queue and the workers serve the clients in turn (round robin), so one student's ten
//! replications do not hold up another's single run. Simulations run on plain threads, never on
//! the web server's, so pages keep being served while every core simulates.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};

/// Most jobs waiting at once (all clients); beyond, a request is refused (503) rather than queued.
pub const MAX_QUEUED: usize = 4_000;
/// Most jobs one client may have waiting.
pub const MAX_QUEUED_PER_CLIENT: usize = 120;

struct Queues<J> {
    by_client: BTreeMap<u64, VecDeque<(u64, J)>>,
    /// The client served next (the first at or after it with work).
    next: u64,
    queued: usize,
    shutdown: bool,
}

pub struct Pool<J> {
    state: Arc<(Mutex<Queues<J>>, Condvar)>,
    workers: usize,
}

impl<J: Send + 'static> Pool<J> {
    /// `workers` threads, each calling `work` on the jobs it takes.
    pub fn new(workers: usize, work: impl Fn(J) + Send + Sync + 'static) -> Pool<J> {
        let state = Arc::new((
            Mutex::new(Queues { by_client: BTreeMap::new(), next: 0, queued: 0, shutdown: false }),
            Condvar::new(),
        ));
        let work = Arc::new(work);
        for i in 0..workers {
            let state = Arc::clone(&state);
            let work = Arc::clone(&work);
            std::thread::Builder::new()
                .name(format!("simulation-{i}"))
                .spawn(move || {
                    while let Some(job) = take(&state) {
                        work(job);
                    }
                })
                .expect("a worker thread starts");
        }
        Pool { state, workers }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Queues `job` (known as `id`) for `client`; the error says why it was refused.
    pub fn submit(&self, client: u64, id: u64, job: J) -> Result<(), String> {
        self.submit_all(client, vec![(id, job)])
    }

    /// Queues several jobs at once, all or none.
    pub fn submit_all(&self, client: u64, jobs: Vec<(u64, J)>) -> Result<(), String> {
        let (lock, cvar) = &*self.state;
        let mut q = lock.lock().expect("pool lock");
        let own = q.by_client.get(&client).map_or(0, VecDeque::len);
        if own + jobs.len() > MAX_QUEUED_PER_CLIENT {
            return Err(format!(
                "you already have {own} simulations waiting; at most {MAX_QUEUED_PER_CLIENT} may wait per user"
            ));
        }
        if q.queued + jobs.len() > MAX_QUEUED {
            return Err(format!("the server has {} simulations waiting; try again in a minute", q.queued));
        }
        q.queued += jobs.len();
        q.by_client.entry(client).or_default().extend(jobs);
        drop(q);
        cvar.notify_all();
        Ok(())
    }

    /// Jobs served before `id` if it is waiting (round robin: one job per client per turn), or `None`.
    pub fn position(&self, client: u64, id: u64) -> Option<usize> {
        let (lock, _) = &*self.state;
        let q = lock.lock().expect("pool lock");
        let depth = q.by_client.get(&client)?.iter().position(|(j, _)| *j == id)?;
        // Every other client serves up to depth + 1 jobs before this one's turn (depth if it comes
        // after this client in the rotation), this client `depth`.
        let ahead: usize = q
            .by_client
            .iter()
            .filter(|(c, _)| **c != client)
            .map(|(c, jobs)| {
                let before = serves_before(q.next, *c, client);
                jobs.len().min(depth + usize::from(before))
            })
            .sum();
        Some(ahead + depth)
    }

    /// Removes `client`'s waiting jobs matching `pred` (a reset or a cancelled batch).
    pub fn withdraw(&self, client: u64, pred: impl Fn(u64) -> bool) {
        let (lock, _) = &*self.state;
        let mut q = lock.lock().expect("pool lock");
        if let Some(jobs) = q.by_client.get_mut(&client) {
            let before = jobs.len();
            jobs.retain(|(id, _)| !pred(*id));
            let removed = before - jobs.len();
            q.queued -= removed;
        }
    }

    /// Waiting jobs, all clients.
    pub fn queued(&self) -> usize {
        self.state.0.lock().expect("pool lock").queued
    }

    /// Lets the workers finish their current job and stop.
    pub fn shutdown(&self) {
        let (lock, cvar) = &*self.state;
        lock.lock().expect("pool lock").shutdown = true;
        cvar.notify_all();
    }
}

/// Whether client `c`'s turn comes before `client`'s in the rotation that starts at `next`.
fn serves_before(next: u64, c: u64, client: u64) -> bool {
    let rank = |x: u64| x.wrapping_sub(next);
    rank(c) < rank(client)
}

fn take<J>(state: &(Mutex<Queues<J>>, Condvar)) -> Option<J> {
    let (lock, cvar) = state;
    let mut q = lock.lock().expect("pool lock");
    loop {
        if q.shutdown {
            return None;
        }
        let next = q.next;
        let client = q
            .by_client
            .range(next..)
            .chain(q.by_client.range(..next))
            .find(|(_, jobs)| !jobs.is_empty())
            .map(|(c, _)| *c);
        if let Some(client) = client {
            let jobs = q.by_client.get_mut(&client).expect("the client was just found");
            let (_, job) = jobs.pop_front().expect("the queue is not empty");
            if jobs.is_empty() {
                q.by_client.remove(&client);
            }
            q.queued -= 1;
            q.next = client.wrapping_add(1);
            return Some(job);
        }
        q = cvar.wait(q).expect("pool lock");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// One worker, held busy while three clients queue: it then serves them in turn.
    #[test]
    fn clients_are_served_in_turn() {
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let gate = Mutex::new(gate_rx);
        let (done_tx, done_rx) = mpsc::channel();
        let done_tx = Mutex::new(done_tx);
        let pool = Pool::new(1, move |(client, n): (u64, u64)| {
            gate.lock().unwrap().recv().unwrap();
            done_tx.lock().unwrap().send((client, n)).unwrap();
        });
        pool.submit(9, 0, (9, 0)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        pool.submit_all(1, (1..=3).map(|n| (n, (1, n))).collect()).unwrap();
        pool.submit_all(2, (4..=5).map(|n| (n, (2, n))).collect()).unwrap();
        pool.submit(3, 6, (3, 6)).unwrap();
        assert_eq!(pool.position(1, 1), Some(0));
        assert_eq!(pool.position(3, 6), Some(2));
        assert_eq!(pool.position(1, 3), Some(5));
        assert_eq!(pool.position(2, 5), Some(4));
        let mut order = Vec::new();
        for _ in 0..7 {
            gate_tx.send(()).unwrap();
            order.push(done_rx.recv().unwrap());
        }
        assert_eq!(order, [(9, 0), (1, 1), (2, 4), (3, 6), (1, 2), (2, 5), (1, 3)]);
        assert_eq!(pool.queued(), 0);
        pool.shutdown();
    }

    #[test]
    fn a_client_cannot_flood_the_queue() {
        let pool = Pool::new(0, |_: u64| {});
        let jobs: Vec<(u64, u64)> = (0..MAX_QUEUED_PER_CLIENT as u64 + 1).map(|i| (i, i)).collect();
        assert!(pool.submit_all(1, jobs).unwrap_err().contains("at most"));
        pool.submit(1, 0, 0).unwrap();
        pool.withdraw(1, |id| id == 0);
        assert_eq!(pool.queued(), 0);
    }
}
