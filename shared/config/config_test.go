package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/partnerportal/licenses/shared/config"
)

func TestFromEnv(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	c, err := config.FromEnv(env(map[string]string{config.TableName: "t"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ExpiringWindow != 30 || c.ExportURLLifetime != 15*time.Minute || c.ExportRetention != 7*24*time.Hour {
		t.Errorf("defaults = %+v", c)
	}
	// 0 is a window, not "unset".
	c, err = config.FromEnv(env(map[string]string{config.TableName: "t", config.ExpiringWindowDays: "0"}))
	if err != nil || c.ExpiringWindow != 0 {
		t.Errorf("EXPIRING_WINDOW_DAYS=0: %d, %v", c.ExpiringWindow, err)
	}
	_, err = config.FromEnv(env(map[string]string{config.ExpiringWindowDays: "-1", config.ExportURLMinutes: "721",
		config.ExportRetentionDays: "0", config.LogLevel: "loud"}))
	for _, name := range []string{config.TableName, config.ExpiringWindowDays, config.ExportURLMinutes, config.ExportRetentionDays, config.LogLevel} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("a bad environment: error %v does not name %s", err, name)
		}
	}
}
