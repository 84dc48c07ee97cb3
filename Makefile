# The two set-up commands of the README.
#   make up    build and run the whole stack (embedded SQLite, demo tenant); installs cmake
#              if missing. Arguments for `patchbay up`: make up ARGS="--data-dir /tmp/pb"
#   make test  install what the tests need, start PostgreSQL, run every test (CI runs this).
.PHONY: up test
up:
	bash .ci/up $(ARGS)
test:
	bash .ci/test
