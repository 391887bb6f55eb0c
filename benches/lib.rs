//! Workload generators shared by the criterion benchmarks (to come).
