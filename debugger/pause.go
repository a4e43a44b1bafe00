package debugger

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spindle-vm/spindle/vm"
)

// Pauses. A Ctrl-C (Pause) or the time limit of a command (Config.Timeout) asks the machine to
// stop at its next check point. A command that runs the program forward stops there, in a
// state of the run like any other: continue goes on from it. A reverse command runs stretches
// of the past again to find where it goes; cut short, it would be at some point of that search
// that means nothing to the user, so it goes back to where it started instead.

// errPaused is the error of a replay of the past (seek, lastStop) that a pause cut short.
var errPaused = errors.New("paused")

// clock is the time limit of one command.
type clock struct {
	timer   *time.Timer
	fired   chan struct{} // closed once the timer's function has run
	end     time.Time     // when the timer fires
	timeUp  atomic.Bool   // the timer has fired and paused the machine
	stopped bool          // stop has run
}

// startClock pauses the machine after Config.Timeout, or returns nil when there is no limit.
func (s *Session) startClock() *clock {
	if s.cfg.Timeout <= 0 {
		return nil
	}
	c := &clock{fired: make(chan struct{}), end: time.Now().Add(s.cfg.Timeout)}
	m := s.m // reload may make another machine, which this command does not run
	c.timer = time.AfterFunc(s.cfg.Timeout, func() {
		defer close(c.fired)
		c.timeUp.Store(true)
		m.Pause()
	})
	return c
}

// stop stops the clock; once it returns, the timer will not pause the machine. It may be
// called again.
func (c *clock) stop() {
	if c == nil || c.stopped {
		return
	}
	c.stopped = true
	if !c.timer.Stop() {
		<-c.fired
	}
}

// hold stops the clock while the user types the program's input, and returns what starts it
// again with the time that was left.
func (c *clock) hold() (resume func()) {
	if c == nil || c.stopped || !c.timer.Stop() {
		return func() {} // no limit, or it has fired: the machine stops once it runs again
	}
	left := time.Until(c.end)
	return func() {
		c.end = time.Now().Add(left)
		c.timer.Reset(left)
	}
}

// TimedOut reports whether the last command was paused by Config.Timeout.
func (s *Session) TimedOut() bool { return s.timedOut }

// pausedLine says why the run paused: a Ctrl-C, or the time limit.
func (s *Session) pausedLine() string {
	if s.clock != nil && s.clock.timeUp.Load() {
		s.timedOut = true
		return fmt.Sprintf("Paused: the command ran for %v of wall time (--timeout).", s.cfg.Timeout)
	}
	return "Paused."
}

// run runs command c with the time limit, and brings a reverse command that a pause cut short
// back to where it started.
//
// The commands of the breakpoints that the command stopped at run within it, under its time
// limit: a list that runs the program on and on stops at the limit, or at a Ctrl-C.
func (s *Session) run(c *command, arg string) error {
	if s.inCommands {
		return s.runOne(c, arg) // a breakpoint's command, within the command that stopped there
	}
	s.timedOut = false
	s.clock = s.startClock()
	defer func() {
		s.clock.stop()
		s.clock = nil
	}()
	if err := s.runOne(c, arg); err != nil {
		return err
	}
	s.runCommands()
	return nil
}

// runOne runs command c, and brings a reverse command that a pause cut short back to where it
// started.
func (s *Session) runOne(c *command, arg string) error {
	from := s.here()
	err := c.run(s, arg)
	if errors.Is(err, errStart) {
		msg := err.Error() // errStart's, or a threadStart's: "no more history: ..."
		fmt.Fprintln(s.out, s.paint(stopColor, strings.ToUpper(msg[:1])+msg[1:]+"."))
		s.showBack()
		return nil
	}
	if !errors.Is(err, errPaused) {
		return err
	}
	s.clock.stop()
	s.m.CancelPause()
	s.undone = true
	for {
		// Going back to where it was is a run of at most the distance between snapshots; a
		// Ctrl-C meanwhile cuts it short too, and it starts again.
		if err = s.back(from); !errors.Is(err, errPaused) {
			break
		}
	}
	if err != nil {
		return err
	}
	line := s.pausedLine()
	fmt.Fprintln(s.out, s.paint(stopColor, fmt.Sprintf("%s %s did not finish: back where it started, at step %d.", line, c.name, s.m.Steps())))
	if s.cur != nil {
		s.showWhere(s.cur)
		s.showDisplays()
	}
	return nil
}

// A place is where the session is: the step of the run, the stop, and the thread shown.
type place struct {
	steps   uint64
	stop    vm.Stop
	stopped threadID
	ended   *vm.Stop
	cur     threadID
	hasCur  bool
	focused bool
}

func (s *Session) here() place {
	p := place{steps: s.m.Steps(), stop: s.stop, ended: s.ended, focused: s.focused}
	if s.stop.Thread != nil {
		p.stopped = idOf(s.stop.Thread)
	}
	if s.cur != nil {
		p.cur, p.hasCur = idOf(s.cur), true
	}
	return p
}

// back puts the session at p again.
func (s *Session) back(p place) error {
	if err := s.seek(p.steps); err != nil {
		return err
	}
	s.stop, s.ended, s.focused = p.stop, p.ended, p.focused
	if p.stop.Thread != nil {
		s.stop.Thread = s.find(p.stopped)
	}
	if p.hasCur {
		s.cur = s.find(p.cur)
	}
	return nil
}
