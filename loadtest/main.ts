// Meridian's k6 load test: one script, the profile chosen by PROFILE (see profiles.ts).
//   npm run load -- <profile>          (scripts/load.mjs: checks the stack, then runs this)
//   k6 run -e PROFILE=smoke loadtest/main.ts
import { sleep } from 'k6';
import type { Options } from 'k6/options';
import { DURATION_SCALE, EDGE_URL, PROFILE, SERVICE_A_URL, SUMMARY_FILE, TESTID } from './lib/env.ts';
import { profile } from './profiles.ts';
import { type Image, pickRoute, postHash, postImage, SERVICE_A_ROUTES } from './routes.ts';
import { type SummaryData, textSummary } from './summary.ts';
import { thresholdsFor } from './thresholds.ts';

const chosen = profile(PROFILE);

/** Made by loadtest/make-images.mjs (scripts/load.mjs runs it when they are missing). */
export const IMAGE_FILES = [
  { name: 'photo.jpg', type: 'image/jpeg' },
  { name: 'photo.png', type: 'image/png' },
  { name: 'photo.webp', type: 'image/webp' },
];

function loadImages(): Image[] {
  return IMAGE_FILES.map(({ name, type }) => {
    try {
      return { name, type, bytes: open(`./images/${name}`, 'b') };
    } catch (err) {
      throw new Error(`loadtest/images/${name} is missing (${err}): run node loadtest/make-images.mjs`);
    }
  });
}
const IMAGES: Image[] = Object.values(chosen.scenarios).some((s) => s.exec === 'edge') ? loadImages() : [];

export const options: Options = {
  scenarios: chosen.scenarios,
  thresholds: thresholdsFor(chosen),
  // On every metric, so also a label of every series k6 writes to Prometheus.
  tags: { testid: TESTID, profile: PROFILE },
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'],
  userAgent: 'meridian-loadtest (k6)',
};

/** service-a as a client uses it: one route per iteration drawn by weight, or all of them (smoke). */
export function serviceA(): void {
  if (__ENV.MIX === 'all') {
    for (const r of SERVICE_A_ROUTES) r.send();
    sleep(1);
    return;
  }
  pickRoute().send();
}

/** Real images through the edge: JPEG, PNG and WebP, raw bodies and sometimes multipart. */
export function edge(): void {
  if (__ENV.MIX === 'all') {
    for (const image of IMAGES) postImage(image, 'raw');
    postImage(IMAGES[0], 'multipart');
    sleep(1);
    return;
  }
  const image = IMAGES[Math.floor(Math.random() * IMAGES.length)];
  postImage(image, Math.random() < 0.25 ? 'multipart' : 'raw');
}

/** POST /hash, two JSON bodies for one form, with a short think time per virtual user. */
export function hash(): void {
  postHash(Math.random() < 2 / 3 ? 'json' : 'form');
  sleep(0.25);
}

export default serviceA;

export function handleSummary(data: SummaryData): Record<string, string> {
  const heading =
    `Meridian load test: profile ${PROFILE}, testid ${TESTID}, duration scale ${DURATION_SCALE}\n` +
    `  service-a ${SERVICE_A_URL}   edge ${EDGE_URL}\n  summary   ${SUMMARY_FILE}`;
  const run = { profile: PROFILE, testid: TESTID, durationScale: DURATION_SCALE, serviceA: SERVICE_A_URL, edge: EDGE_URL };
  return {
    stdout: textSummary(data, heading),
    [SUMMARY_FILE]: JSON.stringify({ meridian: run, ...data }, null, 2),
  };
}
