// @netaccel/labs: lab scenarios shared by `netaccel lab`, test/ and bench/: topologies (on
// @netaccel/netlab), the veth quirks, scenario steps, the Scenario shape and the scenarios
// themselves. See README.md.

// scenarios
export { TEARDOWN_TITLE, runScenario } from './scenario.js';
export type { Scenario, ScenarioRunOptions, ScenarioStep } from './scenario.js';
export { KILLED, REMOVED, killedOf, thesisScenario } from './thesis/scenario.js';
export type { ThesisOptions, ThesisRun } from './thesis/scenario.js';
export { paxosScenario } from './paxos/scenario.js';
export type { PaxosLabOptions, PaxosRun } from './paxos/scenario.js';
export { craqScenario } from './craq/scenario.js';
export type { CraqLabOptions, CraqRun } from './craq/scenario.js';
export { sidecarScenario } from './sidecar/scenario.js';
export type { SidecarLabOptions, SidecarRun } from './sidecar/scenario.js';
export { SCALING_LAB_PREFIX, SCALING_LOAD, WARMUP_MS, checkScaling, scalingScenario } from './scaling/scenario.js';
export type { ScalingOptions, ScalingRun } from './scaling/scenario.js';

// topologies
export { ARP_HIDDEN, NO_RP_FILTER, switchPort, switchedSegment } from './topologies/segment.js';
export type { SegmentMember, SegmentOptions } from './topologies/segment.js';
export {
  ALL_BALANCERS,
  AS,
  BACKENDS,
  BALANCERS,
  BALANCER_RANGE,
  DEFAULT_BALANCERS,
  LAB_MODES,
  MAX_BALANCERS,
  NAT_SOURCE_COUNT,
  ROUTER_ADDR,
  RR_ADDR,
  SERVICES,
  backendAddr,
  balancerAddr,
  balancersOf,
  isBalancerCount,
  natSourceAddr,
  servicesFor,
  thesisTopology,
} from './topologies/thesis.js';
export type { BackendName, BalancerName, LabMode, ServiceDef } from './topologies/thesis.js';
export { LBS, LB_AS, ROUTER_AS, RR_AS, lbAddr, lbIndex, routerAddr, routerStarLab, routerStarTopology } from './topologies/router-star.js';
export type { LbName } from './topologies/router-star.js';
export { XLB_BENCH_BACKENDS, XLB_BENCH_NET, XLB_BENCH_PORT, XLB_BENCH_VIP, xlbBenchTopology } from './topologies/xlb-bench.js';
export type { XlbBenchBackend } from './topologies/xlb-bench.js';

// the veth quirks
export { completeChecksums, napiForXdpTx, vethToNamespace } from './veth.js';
export type { VethToNamespace, VethToNamespaceOptions } from './veth.js';

// steps
export { STEP_INDENT, Steps, fmtMs } from './steps/step-runner.js';
export type { StepTime } from './steps/step-runner.js';
export { birdSocket, startBirdRouter, startReflector, waitBirdEstablished } from './steps/routing.js';
export { nginxConfig, startNginxBackends } from './steps/backends.js';
export { countRoutes, fibNextHops, gateways, prefixes, sameSet, timeUntilGone, waitNextHops } from './steps/fib.js';
export { RouteMonitor, parseMonitorLine } from './steps/route-monitor.js';
export type { RouteEvent } from './steps/route-monitor.js';
export { killAll, nodeFailure, setLink, silence } from './steps/failure.js';
export { BUCKET_MS, countsBetween, parseWrkOutput, writeWrkScript, wrkArgv } from './steps/wrk.js';
export type { WrkErrors, WrkResult } from './steps/wrk.js';

// the thesis scenario's parts
export { LAB_DAEMONS, birdConfig, gobgpConfig, writeBalancerFiles, writeServices } from './thesis/configs.js';
export type { BalancerFileOptions, BalancerFiles, LabDaemon, ThesisInstall } from './thesis/configs.js';
export { KEPT_FILE, LAB_PREFIX, LAB_STATE_DIR, PIN_BASE, checkBuilt, pinBaseFor, removeEarlierLabs, removePins } from './thesis/lab-state.js';
export type { KeptLab } from './thesis/lab-state.js';
export { checkReport } from './thesis/check.js';
export { balancerChartSvg, chartSvg, reportHtml } from './thesis/report.js';
export type { ChartSeries, LabReport, PhaseSplit, TrafficSummary } from './thesis/report.js';

// the Paxos scenario's parts
export { PAXOS_CLIENT_ADDR, PAXOS_CLIENT_NODE, PAXOS_LAB_PORT, PAXOS_LAB_PREFIX, paxosTopology, replicaAddr, replicaNode } from './paxos/topology.js';
export { counterDeltas, counterFaults, perSecond, phaseFigures, quantile, runFaults } from './paxos/figures.js';
export type { CounterSample, KernelStats, OffloadBits, OffloadCounters, PhaseBound, PhaseFigures, SecondPoint } from './paxos/figures.js';
export { paxosChartSvg } from './paxos/chart.js';
export type { PaxosChart } from './paxos/chart.js';
export type { PaxosReport, ViewChange } from './paxos/report.js';

// the CRAQ scenario's parts
export { CHAIN_NODES, CRAQ_CLIENT_NODE, CRAQ_KEY_PREFIX, CRAQ_LAB_PREFIX, craqAddr, craqTopology } from './craq/topology.js';
export { ETCD_NODES, SCHEDULER_NODE, etcdClientUrl } from './craq/topology.js';
export { etcdArgv, redisArgv, redisUrl, writeLoaderFiles, writeSchedulerConfig } from './craq/processes.js';
export type { CraqInstall, LoaderFiles, SchedulerTuning } from './craq/processes.js';
export { craqChartSvg } from './craq/chart.js';
export type { CraqChart } from './craq/chart.js';
export type { CraqReport, PlacementChange, ServedBy } from './craq/report.js';
export { zipfHeadShare, zipfSampler } from './craq/zipf.js';

// the sidecar scenario's parts
export { SIDECAR_CLIENT_NODE, SIDECAR_LAB_PREFIX, SIDECAR_SERVER_NODE, sidecarTopology } from './sidecar/topology.js';
export type { SidecarInstall } from './sidecar/processes.js';
export { sidecarChartSvg } from './sidecar/chart.js';
export type { SidecarChart } from './sidecar/chart.js';
export type { MethodCount, SidecarPhase } from './sidecar/figures.js';
export type { ConnectionReport, MethodReport, SidecarReport } from './sidecar/report.js';

// the scaling scenario's parts
export { COST_GOAL, SPLIT_GOAL, balancerFigures, evenness, scalingSteps, verdict } from './scaling/figures.js';
export type { BalancerCounters, BalancerFigures, ScalingStep, StepWindow } from './scaling/figures.js';
export { costChartSvg, shareChartSvg } from './scaling/chart.js';
export { scalingHtml, scalingText } from './scaling/report.js';
export type { ScalingReport } from './scaling/report.js';
export { programRunTime, readCounters, vipCounters } from './scaling/stats.js';

// errors
export { NA_ERR_LAB_BALANCERS, NA_ERR_LAB_BUSY, NA_ERR_LAB_CHECK, NA_ERR_LAB_NOT_BUILT, NA_ERR_LAB_STEP, NA_ERR_LAB_VETH_FAILED, labsErrors } from './errors.js';
