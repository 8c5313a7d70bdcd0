package deploy

// Step is a point in the swap that Request.AtStep is told of, so a test
// can stop a deployer exactly there and kill it.
type Step int

// The steps AtStep is called at.
const (
	// StepCreated: every host's new container exists; nothing has stopped.
	StepCreated Step = iota + 1
	// StepStopped: the old version has exited and the data step ran; the
	// new one has not started.
	StepStopped
	// StepStarted: the new version was started, before its health check.
	StepStarted
)

// String names the step for logs and test failures: "created", "stopped"
// or "started".
func (s Step) String() string {
	switch s {
	case StepCreated:
		return "created"
	case StepStopped:
		return "stopped"
	case StepStarted:
		return "started"
	}
	return "unknown"
}
