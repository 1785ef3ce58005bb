import { Feature, NetBuilder } from './net-builder';

/**
 * EfficientNet-B0 (Tan & Le 2019), 224×224: a 3×3 stem, 16 MBConv blocks with
 * squeeze-and-excitation and Swish (SiLU = x·sigmoid(x)), a 1×1 conv to 1280 features, then the
 * classifier. Layer names follow torchvision's `features.stage.block` numbering.
 */

/** Stage table: expansion, kernel, first stride, output channels, repeats. */
export const EFFICIENTNETB0_STAGES: readonly [expand: number, kernel: number, stride: number, channels: number, repeats: number][] = [
  [1, 3, 1, 16, 1],
  [6, 3, 2, 24, 2],
  [6, 5, 2, 40, 2],
  [6, 3, 2, 80, 3],
  [6, 5, 1, 112, 3],
  [6, 5, 2, 192, 4],
  [6, 3, 1, 320, 1],
];

/** Squeeze ratio of the SE block, relative to the block's input channels. */
const SE_RATIO = 0.25;
/** Residual branches are damped so the sum of several skip connections keeps its scale. */
const RESIDUAL_SCALE = 0.5;

function mbConv(net: NetBuilder, name: string, x: Feature, expand: number, kernel: number, stride: number, cout: number): Feature {
  const hidden = x.values.c * expand;
  let h = x;
  if (expand !== 1) h = net.conv(`${name}.expand`, h, { cout: hidden, kernel: 1, act: 'silu' });
  h = net.conv(`${name}.depthwise`, h, { cout: hidden, kernel, stride, groups: hidden, act: 'silu' });
  h = net.squeezeExcite(`${name}.se`, h, Math.max(1, Math.floor(x.values.c * SE_RATIO)));
  const residual = stride === 1 && x.values.c === cout;
  h = net.conv(`${name}.project`, h, { cout, kernel: 1, act: 'none', scale: residual ? RESIDUAL_SCALE : 1 });
  return residual ? net.add(`${name}.add`, x, h) : h;
}

export function buildEfficientNetB0(seed: number): NetBuilder {
  const net = new NetBuilder('efficientnetb0', seed);
  let x = net.conv('features.0', net.input(), { cout: 32, kernel: 3, stride: 2, act: 'silu' });
  EFFICIENTNETB0_STAGES.forEach(([expand, kernel, stride, channels, repeats], stage) => {
    for (let i = 0; i < repeats; i++) {
      x = mbConv(net, `features.${stage + 1}.${i}`, x, expand, kernel, i === 0 ? stride : 1, channels);
    }
  });
  x = net.conv(`features.${EFFICIENTNETB0_STAGES.length + 1}`, x, { cout: 1280, kernel: 1, act: 'silu' });
    net.classifier(x);
  return net;
}
