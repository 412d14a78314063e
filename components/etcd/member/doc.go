// Package member holds the start logic of the etcd members of Anka Build Cloud and renders how a
// pod runs it.
//
// The etcd image stays the official, distroless quay.io/coreos/etcd. An init container from a
// static busybox image (busybox:1.36.1-musl) fills an emptyDir at Settings.ToolsDir with busybox and
// its applet links (Settings.InitCommand); the etcd container runs the embedded member.sh from a
// ConfigMap at Settings.ScriptsDir under that busybox (Settings.Command(ModeStart)) with the
// environment of Settings.Env. member.sh decides from its data dir and the live cluster whether to
// bootstrap, restart, rejoin as a learner and get promoted, or refuse foreign data, then runs etcd
// with every flag built from that environment.
//
// Usage sketch (the Pulumi component does this):
//
//	s := member.Settings{Namespace: "anka", Replicas: 3, TLS: member.TLS{Enabled: true}}.WithDefaults()
//	if err := s.Validate(); err != nil { return err } // every problem, naming anka:etcd.* keys
//	env := s.Env()                    // container env (POD_NAME/POD_UID via the downward API)
//	cmd := s.Command(member.ModeStart) // [/anka/bin/busybox sh /anka/scripts/member.sh start]
//	init := s.InitCommand()            // init container in busybox:1.36.1-musl
//	prune := s.Command(member.ModePrune) // scale-down Job, same image, env from the NEW settings
//
// Backups: Backup.Env and Backup.Command render the CronJob running backup.sh.
package member
