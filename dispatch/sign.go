package dispatch

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/outlethq/outlet"
)

// Sign returns the Standard Webhooks signature header for a message: one
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>" per secret, separated by
// spaces, so a receiver holding any one of the secrets can verify it.
func Sign(secrets []string, msgID string, timestamp int64, body []byte) (string, error) {
	var b strings.Builder
	ts := strconv.FormatInt(timestamp, 10)
	for i, s := range secrets {
		key, err := outlet.DecodeEndpointSecret(s)
		if err != nil {
			return "", err
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(msgID))
		mac.Write([]byte{'.'})
		mac.Write([]byte(ts))
		mac.Write([]byte{'.'})
		mac.Write(body)
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return b.String(), nil
}

// Verify reports whether header holds a valid v1 signature of the message by
// secret. Outlet doesn't receive webhooks; this is the check it documents for
// receivers and the one its sync-endpoint and test code use.
func Verify(secret, msgID string, timestamp int64, body []byte, header string) bool {
	want, err := Sign([]string{secret}, msgID, timestamp, body)
	if err != nil {
		return false
	}
	wantSig := []byte(strings.TrimPrefix(want, "v1,"))
	for _, part := range strings.Fields(header) {
		sig, ok := strings.CutPrefix(part, "v1,")
		if ok && hmac.Equal([]byte(sig), wantSig) {
			return true
		}
	}
	return false
}
