package main

import "syscall"

// childAttr makes a child process die with this one, so that an
// interrupted suite leaves no xunji or redis-server behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
