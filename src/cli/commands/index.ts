import { defineCommand } from '../registry.js';

/** Every command, one line each; the module is imported only when its command runs. */
export function registerAll(): void {
  defineCommand('run', 'inspect frames from a camera, video or folder continuously and publish the results', () => import('./run.js'));
  defineCommand('inspect', 'inspect image files once: verdict, score, regions, optional heatmaps', () => import('./inspect.js'));
  defineCommand('create', 'write a model bundle with initialised weights (preset edge | lite | paper)', () => import('./create.js'));
  defineCommand('info', 'show a bundle: parameters, GMACs, file hashes', () => import('./info.js'));
  defineCommand('import-backbone', 'check ImageNet backbone weights (torchvision names) for create --backbone', () => import('./import-backbone.js'));
  defineCommand('train', 'train a model on good images and write a ready bundle', () => import('./train.js'));
  defineCommand('build-engine', 'build a TensorRT engine for this GPU from a model bundle', () => import('./build-engine.js'));
  defineCommand('quantize', "write the bundle's INT8 model for ONNX Runtime CPU, calibrated on good images", () => import('./quantize.js'));
  defineCommand('eval', 'evaluate a model on an MVTec-layout dataset: AUROC, AP, AUPRO, report.html', () => import('./eval.js'));
  defineCommand('calibrate', "set a bundle's image and pixel thresholds from data", () => import('./calibrate.js'));
  defineCommand('schema', 'print the JSON Schemas of the MQTT events (inspection, error, status, model)', () => import('./schema.js'));
  defineCommand('score', 'fused anomaly score of a reconstruction against its input image (map as .npy)', () => import('./score.js'));
  defineCommand('demo', 'run the main job on the demo bundle and sample frames, with an embedded MQTT broker', () => import('./demo.js'));
}
