package lark

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
)

// A body that decrypts to text with a "}" before its first "{" makes the
// SDK's DecryptEvent (v3.5.3) panic on an inverted slice; it must be refused with 401
// like any other undecryptable body, not crash the request.
func TestBodyThatPanicsTheSDKDecryptionIsRefused(t *testing.T) {
	const key = "test key"
	sum := sha256.Sum256([]byte(key))
	block, err := aes.NewCipher(sum[:])
	if err != nil {
		t.Fatal(err)
	}
	iv := bytes.Repeat([]byte{7}, aes.BlockSize)
	plain := []byte("}abcdefghijklm{x") // a "}" before the first "{": the SDK slices [14:1]
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, plain)
	enc := base64.StdEncoding.EncodeToString(append(iv, ct...))
	body, _ := json.Marshal(map[string]string{"encrypt": enc})

	hs := newHarness(t, key)
	// Signed correctly, so only the decryption can refuse it.
	status, _ := hs.postRaw("/lark/events", body, larktest.Sign(key, time.Now(), body))
	if status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", status)
	}
	if hs.h.n.Load() != 0 {
		t.Error("the bot was reached")
	}
}
