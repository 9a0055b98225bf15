//! The worker processes: this binary started again in worker mode, killed with SIGKILL and
//! restarted on demand, and killed when the soak ends (also when it ends early).

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use cmis_core::{Error, Result};

use super::skew::skew_of;
use super::worker::{ENV_CLOCK_SKEW, ENV_WORKER_ID};

struct Slot {
    child: Child,
    generation: u32,
}

/// Running workers.
pub(crate) struct Workers {
    exe: PathBuf,
    env: Vec<(&'static str, String)>,
    logs: PathBuf,
    /// Each worker's clock is off by this many seconds, the sign alternating by slot.
    skew: u64,
    slots: Vec<Slot>,
    /// Workers that exited on their own (a worker is only ever meant to be killed).
    pub(crate) crashes: Vec<String>,
    pub(crate) kills: usize,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("workers", &self.slots.len())
            .field("kills", &self.kills)
            .finish_non_exhaustive()
    }
}

impl Workers {
    /// Starts `n` workers with `env`, logging into `logs`, their clocks off by `skew` seconds.
    pub(crate) fn start(
        n: usize,
        env: Vec<(&'static str, String)>,
        logs: PathBuf,
        skew: u64,
    ) -> Result<Self> {
        let exe = std::env::current_exe()
            .map_err(|e| Error::internal(format!("cannot find this program to re-run it: {e}")))?;
        let mut workers = Self {
            exe,
            env,
            logs,
            skew,
            slots: Vec::with_capacity(n),
            crashes: Vec::new(),
            kills: 0,
        };
        for i in 0..n {
            let child = workers.spawn(i, 0)?;
            workers.slots.push(Slot {
                child,
                generation: 0,
            });
        }
        Ok(workers)
    }

    fn name(slot: usize, generation: u32) -> String {
        format!("chaos-w{slot}-g{generation}")
    }

    fn spawn(&self, slot: usize, generation: u32) -> Result<Child> {
        let name = Self::name(slot, generation);
        let log = self.logs.join(format!("{name}.log"));
        let stderr = File::create(&log)
            .map_err(|e| Error::internal(format!("cannot create {}: {e}", log.display())))?;
        let mut cmd = Command::new(&self.exe);
        cmd.arg("--worker")
            .env(ENV_WORKER_ID, &name)
            .env(ENV_CLOCK_SKEW, skew_of(slot, self.skew).to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(stderr);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.spawn()
            .map_err(|e| Error::internal(format!("cannot start worker {name}: {e}")))
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Kills worker `slot` with SIGKILL, waits for it, and starts its successor.
    pub(crate) fn kill_and_restart(&mut self, slot: usize) -> Result<String> {
        let generation = {
            let s = &mut self.slots[slot];
            // `Child::kill` is SIGKILL on Unix: no shutdown code runs.
            s.child
                .kill()
                .map_err(|e| Error::internal(format!("cannot kill worker {slot}: {e}")))?;
            let _ = s.child.wait();
            s.generation + 1
        };
        let killed = Self::name(slot, generation - 1);
        let child = self.spawn(slot, generation)?;
        self.slots[slot] = Slot { child, generation };
        self.kills += 1;
        Ok(killed)
    }

    /// Restarts workers that exited on their own, recording each as a crash.
    pub(crate) fn restart_exited(&mut self) -> Result<()> {
        for slot in 0..self.slots.len() {
            let status = self.slots[slot]
                .child
                .try_wait()
                .map_err(|e| Error::internal(format!("cannot check worker {slot}: {e}")))?;
            if let Some(status) = status {
                let generation = self.slots[slot].generation;
                let name = Self::name(slot, generation);
                self.crashes.push(format!(
                    "{name} exited on its own ({status}); see {}",
                    self.logs.join(format!("{name}.log")).display()
                ));
                let child = self.spawn(slot, generation + 1)?;
                self.slots[slot] = Slot {
                    child,
                    generation: generation + 1,
                };
            }
        }
        Ok(())
    }

    /// Kills every worker.
    pub(crate) fn stop(&mut self) {
        for s in &mut self.slots {
            let _ = s.child.kill();
            let _ = s.child.wait();
        }
        self.slots.clear();
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop();
    }
}
