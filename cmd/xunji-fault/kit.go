package main

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// kitTB is the testing.TB the test kits' fake platforms report through
// when they run in this command rather than in a test: it keeps their
// cleanups for close and turns a failure into a panic (the suite only
// uses the kits' non-failing calls, such as Wait).
type kitTB struct {
	testing.TB // nil: only the methods below are called
	mu         sync.Mutex
	cleanups   []func()
}

func (k *kitTB) Helper() {}

func (k *kitTB) Cleanup(f func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cleanups = append(k.cleanups, f)
}

func (k *kitTB) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "xunji-fault: "+format+"\n", args...)
}

func (k *kitTB) Errorf(format string, args ...any) { k.Logf(format, args...) }

func (k *kitTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (k *kitTB) Fatal(args ...any) { panic(fmt.Sprint(args...)) }

// close runs the cleanups, last registered first.
func (k *kitTB) close() {
	k.mu.Lock()
	fs := k.cleanups
	k.cleanups = nil
	k.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
