package stack

// Steps of a local `up`, in the order it takes them. At each one
// internal/testhook can pause a real investiq-mon process
// (INVESTIQ_TEST_PAUSE=<step>=<ready file>), so a test can kill or signal
// it exactly there and check that the next `up` or `down` finds the
// stack as the step's comment promises.
const (
	// StepUpPlanned: what runs and what changed is known; nothing is
	// written but a missing .env.
	StepUpPlanned = "up:planned"
	// StepUpValidated: every file loaded in the servers' own parsers and
	// the ports to bind are free; nothing of the stack is written yet.
	StepUpValidated = "up:validated"
	// StepUpConfigWritten: secret files and the config directory hold
	// the new files; a failure from here puts the old files back.
	StepUpConfigWritten = "up:config-written"
	// StepUpReloaded: running servers whose files changed reloaded them.
	StepUpReloaded = "up:reloaded"
	// StepUpRestarted: servers whose command line changed were stopped
	// and started with the new one.
	StepUpRestarted = "up:restarted"
	// StepUpStarted: missing servers were started, not yet ready.
	StepUpStarted = "up:started"
	// StepUpReady: every started server answers; the state file is not
	// written yet.
	StepUpReady = "up:ready"
)

// A compose up pauses at three of them: StepUpValidated (the engine, the
// plugin and the images are checked; nothing is written yet),
// StepUpConfigWritten (the stack's files and .env are written, docker
// compose up not run yet) and StepUpReady (compose up --wait returned:
// the containers are healthy; the state file is not written and the
// running servers have not reloaded changed files yet).

// UpSteps lists the steps of a local up in order.
var UpSteps = []string{StepUpPlanned, StepUpValidated, StepUpConfigWritten, StepUpReloaded, StepUpRestarted, StepUpStarted, StepUpReady}
