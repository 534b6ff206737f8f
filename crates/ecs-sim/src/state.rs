//! The whole simulated control plane: the clusters, the task definitions, the simulated clock, and what the
//! control API set (alarms, Lambda answers, lagging reads, the registry).

use crate::logs::LogLine;
use std::collections::BTreeMap;

use crate::cluster::Cluster;
use crate::identity::Identity;
use crate::lag::Lag;
use crate::task_definition::TaskDefinition;

/// Container instances per cluster unless configured otherwise.
pub const DEFAULT_INSTANCES: u32 = 3;

/// The whole simulated control plane.
#[derive(Debug)]
pub struct State {
    /// Region and account for ARNs.
    pub identity: Identity,
    /// Simulated seconds since the simulator started; the rollout engine advances it once per tick.
    pub now: u64,
    /// Clusters by name.
    pub clusters: BTreeMap<String, Cluster>,
    /// Task definition revisions by family, revision 1 first.
    pub families: BTreeMap<String, Vec<TaskDefinition>>,
    /// Past states of the clusters that reads may see, when reads are eventually consistent.
    pub lag: Option<Lag>,
    /// CloudWatch alarms by name, `true` while in ALARM (`POST /_sim/alarms`).
    pub alarms: BTreeMap<String, bool>,
    /// What each Lambda function answers a lifecycle hook with, by ARN (`POST /_sim/lambda`):
    /// SUCCEEDED (the default), FAILED or IN_PROGRESS.
    pub lambdas: BTreeMap<String, String>,
    /// Container instances in every cluster, which a DAEMON service runs one task on each of.
    pub instances: u32,
    /// Whether an ECR endpoint resolves ECR images' tags (see [`crate::registry`]); otherwise their
    /// digests are stable digests of their names.
    pub registry: bool,
    /// What the awslogs containers wrote since the lines were last sent (see [`crate::logs`]).
    pub pending_logs: Vec<LogLine>,
}

impl State {
    /// An empty control plane.
    pub fn new(identity: Identity) -> Self {
        Self {
            identity,
            now: 0,
            clusters: BTreeMap::new(),
            families: BTreeMap::new(),
            lag: None,
            alarms: BTreeMap::new(),
            lambdas: BTreeMap::new(),
            instances: DEFAULT_INSTANCES,
            registry: false,
            pending_logs: Vec::new(),
        }
    }
}

impl State {
    /// Runs the read `read` on the state it sees: with lagging reads, maybe one from a few seconds ago.
    pub fn read<T>(&mut self, read: impl FnOnce(&mut State) -> T) -> T {
        let now = self.now;
        let Some((then, clusters)) = self.lag.as_mut().and_then(|lag| lag.pick(now)) else {
            return read(self);
        };
        let live = std::mem::replace(&mut self.clusters, clusters);
        let lag = self.lag.take();
        self.now = then;
        let answer = read(self);
        self.clusters = live;
        self.lag = lag;
        self.now = now;
        answer
    }
}
