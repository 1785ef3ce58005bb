import {
  Activations,
  addActivations,
  calibrationImages,
  convForward,
  globalAveragePool,
  mapActivations,
  meanStd,
  relu6,
  scaleChannels,
  sigmoid,
  silu,
} from './calibration';
import { DataType, GraphSpec, Initializer, NodeSpec } from './onnx';
import { SeededRandom } from './rng';

export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'probabilities';
export const INPUT_SHAPE = [1, 3, 224, 224] as const;
export const NUM_CLASSES = 1000;

/**
 * Calibration batch. Full-size images, because statistics taken on small ones are distorted by
 * zero padding in the 2×2 deep layers and the error compounds with depth. Two images are the
 * fewest from which the classifier's scale can be set (see classifier), and take 1–2 s per model.
 */
const CALIBRATION_IMAGES = 2;
const CALIBRATION_SIZE = INPUT_SHAPE[2];
/** Spread of the per-channel shift BatchNorm's beta would add after normalising. */
const BETA_STD = 0.1;
/**
 * Standard deviation of the logits on the calibration images: the softmax then clearly prefers a
 * few classes (top-1 typically 5–40 %) without saturating on ordinary inputs.
 */
const LOGIT_STD = 1;
/**
 * Spread of the pre-activation before SiLU. SiLU passes a quarter of the power of small inputs and
 * half of large ones, so around unit scale every layer amplifies strong inputs and damps weak ones,
 * and over 16 blocks the output's scale depends wildly on the input's. At this scale SiLU is
 * nearly ReLU, which does not care about scale.
 */
const SILU_INPUT_STD = 4;
const SE_GATE_STD = 0.5;

export type Activation = 'relu6' | 'silu' | 'none';

export interface ConvOptions {
  cout: number;
  kernel: number;
  stride?: number;
  /** Depthwise when equal to the input channel count. */
  groups?: number;
  act: Activation;
  /** Standard deviation of the output before the activation, relative to what BatchNorm gives. */
  scale?: number;
}

/** A tensor flowing through the builder: its value name and its values on the calibration batch. */
export interface Feature {
  name: string;
  values: Activations;
}

/**
 * Builds a CNN inference graph with seeded weights. Every convolution carries its bias, as when
 * BatchNorm has been folded into it at export time, so the graph has no BatchNormalization nodes.
 *
 * Random weights alone make activations shrink or grow geometrically with depth until the output
 * no longer depends on the input. So each layer is also run on a small calibration batch as it is
 * added, and its weights and bias are set from the statistics of its output, exactly as folding a
 * BatchNorm with those batch statistics would (per layer rather than per channel, which a small
 * batch estimates reliably).
 */
export class NetBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: Initializer[] = [];
  private readonly rng: SeededRandom;
  private paramCount = 0;
  private readonly constants = new Map<number, string>();
  private readonly calibration: Activations;

  constructor(
    readonly modelName: string,
    seed: number,
  ) {
    this.rng = new SeededRandom(seed, modelName);
    this.calibration = calibrationImages(new SeededRandom(seed, `${modelName}/calibration`), CALIBRATION_IMAGES, CALIBRATION_SIZE);
  }

  get params(): number {
    return this.paramCount;
  }

  input(): Feature {
    return { name: INPUT_NAME, values: this.calibration };
  }

  private initializer(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, data });
    this.paramCount += data.length;
    return name;
  }

  private constant(value: number): string {
    let name = this.constants.get(value);
    if (!name) {
      name = `const_${value}`;
      this.initializers.push({ name, dims: [], data: Float32Array.of(value) });
      this.constants.set(value, name);
    }
    return name;
  }

  private op(opType: string, name: string, inputs: string[], attributes?: NodeSpec['attributes']): string {
    const output = `${name}_out`;
    this.nodes.push({ opType, name, inputs, outputs: [output], attributes });
    return output;
  }

  /** Conv with bias (BatchNorm folded in), then the activation. */
  conv(name: string, x: Feature, o: ConvOptions): Feature {
    const groups = o.groups ?? 1;
    const stride = o.stride ?? 1;
    const scale = (o.scale ?? 1) * (o.act === 'silu' ? SILU_INPUT_STD : 1);
    const cin = x.values.c;
    const cinPerGroup = cin / groups;
    const fanIn = cinPerGroup * o.kernel * o.kernel;
    const pad = (o.kernel - 1) / 2;
    const weight = this.rng.normals(o.cout * fanIn, Math.sqrt(2 / fanIn));
    const raw = convForward(x.values, weight, o.cout, o.kernel, stride, pad, groups);
    // Fold the normalisation into the conv: w' = w·k and b' = beta − mean·k with k = scale / std,
    // as BatchNorm with these statistics would. Statistics are per layer: per channel, two images
    // are too few (the 1×1 maps of squeeze-and-excitation have one value per image).
    const { mean, std } = meanStd(raw.data);
    const k = scale / Math.max(std, 1e-6);
    for (let i = 0; i < weight.length; i++) weight[i] *= k;
    const bias = this.rng.normals(o.cout, BETA_STD * scale);
    for (let c = 0; c < o.cout; c++) bias[c] -= mean * k;
    const plane = raw.h * raw.w;
    for (let i = 0; i < raw.data.length; i++) raw.data[i] = raw.data[i] * k + bias[Math.floor(i / plane) % o.cout];

    const w = this.initializer(`${name}.weight`, [o.cout, cinPerGroup, o.kernel, o.kernel], weight);
    const b = this.initializer(`${name}.bias`, [o.cout], bias);
    const out = this.op('Conv', name, [x.name, w, b], {
      kernel_shape: [o.kernel, o.kernel],
      strides: [stride, stride],
      pads: [pad, pad, pad, pad],
      dilations: [1, 1],
      group: groups,
    });
    return this.activation(name, { name: out, values: raw }, o.act);
  }

  activation(name: string, x: Feature, act: Activation): Feature {
    if (act === 'relu6') {
      return { name: this.op('Clip', `${name}.relu6`, [x.name, this.constant(0), this.constant(6)]), values: mapActivations(x.values, relu6) };
    }
    if (act === 'silu') {
      const s = this.op('Sigmoid', `${name}.sigmoid`, [x.name]);
      return { name: this.op('Mul', `${name}.silu`, [x.name, s]), values: mapActivations(x.values, silu) };
    }
    return x;
  }

  add(name: string, a: Feature, b: Feature): Feature {
    return { name: this.op('Add', name, [a.name, b.name]), values: addActivations(a.values, b.values) };
  }

  /** Squeeze-and-excitation: x · sigmoid(fc2(silu(fc1(avgpool(x))))), the fcs as 1×1 convs. */
  squeezeExcite(name: string, x: Feature, squeezeChannels: number): Feature {
    const pooled: Feature = { name: this.op('GlobalAveragePool', `${name}.avgpool`, [x.name]), values: globalAveragePool(x.values) };
    const reduced = this.conv(`${name}.fc1`, pooled, { cout: squeezeChannels, kernel: 1, act: 'silu' });
    // Gates stay near 0.5 and vary gently; saturated gates would make the scale unstable as above.
    const expanded = this.conv(`${name}.fc2`, reduced, { cout: x.values.c, kernel: 1, act: 'none', scale: SE_GATE_STD });
    const gate = this.op('Sigmoid', `${name}.gate`, [expanded.name]);
    return { name: this.op('Mul', `${name}.scale`, [x.name, gate]), values: scaleChannels(x.values, mapActivations(expanded.values, sigmoid)) };
  }

  /** GlobalAveragePool → Flatten → Gemm to the classes → Softmax, named `probabilities`. */
  classifier(x: Feature): void {
    const pooled = this.op('GlobalAveragePool', 'classifier.avgpool', [x.name]);
    const flat = this.op('Flatten', 'classifier.flatten', [pooled], { axis: 1 });
    const features = globalAveragePool(x.values);
    const c = features.c;
    const n = features.n;
    const weight = this.rng.normals(NUM_CLASSES * c, 1 / Math.sqrt(c));
    // Pooled features of a random network mostly differ from input to input in overall
    // magnitude, along their mean direction. Each class's weights are made orthogonal to that
    // direction, so which class wins depends on the pattern of the features, not on how strong
    // they are (otherwise the same one or two classes win for every input).
    const direction = new Float64Array(c);
    for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) direction[j] += features.data[i * c + j];
    const norm = Math.hypot(...direction) || 1;
    for (let j = 0; j < c; j++) direction[j] /= norm;
    for (let k = 0; k < NUM_CLASSES; k++) {
      let dot = 0;
      for (let j = 0; j < c; j++) dot += weight[k * c + j] * direction[j];
      for (let j = 0; j < c; j++) weight[k * c + j] -= dot * direction[j];
    }
    const logits = new Float32Array(n * NUM_CLASSES);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < NUM_CLASSES; k++) {
        let s = 0;
        for (let j = 0; j < c; j++) s += weight[k * c + j] * features.data[i * c + j];
        logits[i * NUM_CLASSES + k] = s;
      }
    }
    const gain = LOGIT_STD / Math.max(meanStd(logits).std, 1e-6);
    for (let i = 0; i < weight.length; i++) weight[i] *= gain;
    const bias = this.rng.normals(NUM_CLASSES, BETA_STD);
    const w = this.initializer('classifier.fc.weight', [NUM_CLASSES, c], weight);
    const b = this.initializer('classifier.fc.bias', [NUM_CLASSES], bias);
    const out = this.op('Gemm', 'classifier.fc', [flat, w, b], { transB: 1 });
    this.nodes.push({ opType: 'Softmax', name: 'softmax', inputs: [out], outputs: [OUTPUT_NAME], attributes: { axis: 1 } });
  }

  graph(docString: string): GraphSpec {
    return {
      name: this.modelName,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: [{ name: INPUT_NAME, elemType: DataType.FLOAT, shape: [...INPUT_SHAPE] }],
      outputs: [{ name: OUTPUT_NAME, elemType: DataType.FLOAT, shape: [1, NUM_CLASSES] }],
      docString,
    };
  }
}
