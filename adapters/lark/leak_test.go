package lark

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if goroutines outlive them, except
// the SDK long connection client's (oapi-sdk-go v3.5.3): it has no way to
// stop (see runWS), so its Start, read and ping loops and the cache
// cleaner it owns (stopped only by a finalizer) stay until the process
// ends, in production as in the tests that run the real client.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/larksuite/oapi-sdk-go/v3/ws.(*Client).Start"),
		goleak.IgnoreAnyFunction("github.com/larksuite/oapi-sdk-go/v3/ws.(*Client).receiveMessageLoop"),
		goleak.IgnoreAnyFunction("github.com/larksuite/oapi-sdk-go/v3/ws.(*Client).pingLoop"),
		goleak.IgnoreTopFunction("github.com/larksuite/oapi-sdk-go/v3/cache.(*cron).start"),
	)
}
