package nginxtest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"time"
)

// GiB is 1 << 30 bytes.
const GiB = int64(1) << 30

// Body is a request body of n bytes from a deterministic PRNG (the AES-128-CTR
// keystream under a key made from seed: about 3.8 GB/s with AES-NI, where
// math/rand/v2's ChaCha8.Read manages 0.5 GB/s and would be the bottleneck),
// generated as it is read: never held in memory or on disk. It hashes what it
// hands out, so the sender's sha256 is known at EOF.
type Body struct {
	rng       cipher.Stream
	remaining int64
	hash      hash.Hash
	sent      int64

	pauseAt  int64 // pause once after this many bytes; <0 never
	pauseFor time.Duration
}

// NewBody returns an n-byte body.
func NewBody(seed uint64, n int64) *Body {
	var key [16]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 16-byte key is always valid
	}
	return &Body{rng: cipher.NewCTR(block, make([]byte, aes.BlockSize)), remaining: n, hash: sha256.New(), pauseAt: -1}
}

// PauseAfter makes the body stall for d once after `after` bytes, like a
// client that stops sending mid-upload.
func (b *Body) PauseAfter(after int64, d time.Duration) *Body {
	b.pauseAt, b.pauseFor = after, d
	return b
}

// Read implements io.Reader.
func (b *Body) Read(p []byte) (int, error) {
	if b.remaining <= 0 {
		return 0, io.EOF
	}
	if b.pauseAt >= 0 && b.sent == b.pauseAt {
		time.Sleep(b.pauseFor)
		b.pauseAt = -1
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	if b.pauseAt > b.sent && int64(len(p)) > b.pauseAt-b.sent {
		p = p[:b.pauseAt-b.sent]
	}
	clear(p)
	b.rng.XORKeyStream(p, p)
	n := len(p)
	b.hash.Write(p)
	b.remaining -= int64(n)
	b.sent += int64(n)
	return n, nil
}

// Sent is the number of bytes read so far.
func (b *Body) Sent() int64 { return b.sent }

// SHA256 is the hex sha256 of the bytes read so far.
func (b *Body) SHA256() string { return hex.EncodeToString(b.hash.Sum(nil)) }
