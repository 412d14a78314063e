package nginxconf

// RenderBypassingTimeoutFloorForTest renders s like Render, but accepts
// timeouts down to 1 s instead of MinTimeoutSeconds, so the real-NGINX test
// can prove within seconds that NGINX applies the configured timeouts. It
// exists only in test builds (export_test.go); production code cannot reach
// it.
func RenderBypassingTimeoutFloorForTest(s Settings) (string, error) {
	return render(s, 1)
}
