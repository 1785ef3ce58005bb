import { Feature, NetBuilder } from './net-builder';

/**
 * MobileNetV2 (Sandler et al. 2018), width multiplier 1.0, 224×224: a 3×3 stem, 17 inverted
 * residual blocks, a 1×1 conv to 1280 features, then the classifier. Layer names follow
 * torchvision's `features.N` numbering.
 */

/** Inverted residual settings: expansion t, output channels c, repeats n, first stride s. */
export const MOBILENETV2_BLOCKS: readonly [t: number, c: number, n: number, s: number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** Residual branches are damped so the sum of several skip connections keeps its scale. */
const RESIDUAL_SCALE = 0.5;

function invertedResidual(net: NetBuilder, name: string, x: Feature, t: number, cout: number, stride: number): Feature {
  const hidden = x.values.c * t;
  let h = x;
  if (t !== 1) h = net.conv(`${name}.expand`, h, { cout: hidden, kernel: 1, act: 'relu6' });
  h = net.conv(`${name}.depthwise`, h, { cout: hidden, kernel: 3, stride, groups: hidden, act: 'relu6' });
  const residual = stride === 1 && x.values.c === cout;
  h = net.conv(`${name}.project`, h, { cout, kernel: 1, act: 'none', scale: residual ? RESIDUAL_SCALE : 1 });
  return residual ? net.add(`${name}.add`, x, h) : h;
}

export function buildMobileNetV2(seed: number): NetBuilder {
  const net = new NetBuilder('mobilenetv2', seed);
  let x = net.conv('features.0', net.input(), { cout: 32, kernel: 3, stride: 2, act: 'relu6' });
  let index = 1;
  for (const [t, c, n, s] of MOBILENETV2_BLOCKS) {
    for (let i = 0; i < n; i++) {
      x = invertedResidual(net, `features.${index++}`, x, t, c, i === 0 ? s : 1);
    }
  }
  x = net.conv(`features.${index}`, x, { cout: 1280, kernel: 1, act: 'relu6' });
    net.classifier(x);
  return net;
}
