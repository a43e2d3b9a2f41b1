package proxy

// ApplyScript is the script Apply runs, for tests that check it with sh -n.
const ApplyScript = applyScript
