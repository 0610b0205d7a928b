//go:build !unix

package matcher

import "time"

// cpuTime returns the wall-clock time, where the process's CPU time is not
// at hand; callers only subtract two readings.
func cpuTime() time.Duration { return time.Duration(time.Now().UnixNano()) }
