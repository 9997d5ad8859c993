import { describe, expect, it } from 'vitest';
import { parseOutputSpec } from '../../engine/exporter/spec.js';
import { fixHistory, mediaTypes } from '../../engine/exporter/image.js';

describe('parseOutputSpec (buildx --output syntax)', () => {
  it('parses type and keys, joins repeated names, and handles quoted CSV values', () => {
    expect(parseOutputSpec('type=docker,name=a,name=b')).toEqual({ type: 'docker', attrs: { name: 'a,b' } });
    expect(parseOutputSpec('type=image,"name=r/a:1,r/b:2",push=true').attrs.name).toBe('r/a:1,r/b:2');
    expect(parseOutputSpec('type=oci,dest=out.tar,compression=zstd').attrs).toEqual({ dest: 'out.tar', compression: 'zstd' });
  });
  it('registry implies push; a bare path is type=local; - is a tar on stdout', () => {
    expect(parseOutputSpec('type=registry,name=x/y').attrs.push).toBe('true');
    expect(parseOutputSpec('out/dir')).toEqual({ type: 'local', attrs: { dest: 'out/dir' } });
    expect(parseOutputSpec('-')).toEqual({ type: 'tar', attrs: { dest: '-' } });
  });
  it('rejects unknown types, unknown keys, missing dest and bad compression with clear messages', () => {
    expect(() => parseOutputSpec('type=floppy')).toThrow(/unknown exporter type "floppy"/);
    expect(() => parseOutputSpec('type=oci,dest=a,colour=red')).toThrow(/unknown --output key "colour"/);
    expect(() => parseOutputSpec('type=tar')).toThrow(/needs dest=/);
    expect(() => parseOutputSpec('type=oci,dest=a,compression=lz4')).toThrow(/unknown compression "lz4"/);
    expect(() => parseOutputSpec('dest=a')).toThrow(/no type=/);
  });
});

describe('image assembly helpers', () => {
  it('makes the non-empty history count equal the layer count', () => {
    const two = fixHistory([{ created_by: 'a' }, { created_by: 'ENV', empty_layer: true }], 3, undefined);
    expect(two.filter((h) => !h.empty_layer)).toHaveLength(3);
    const fewer = fixHistory([{ created_by: 'a' }, { created_by: 'b' }, { created_by: 'c' }], 1, undefined);
    expect(fewer.filter((h) => !h.empty_layer).map((h) => h.created_by)).toEqual(['a']);
  });
  it('chooses Docker or OCI media types by oci-mediatypes and compression', () => {
    expect(mediaTypes(false, 'gzip').layer).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
    expect(mediaTypes(true, 'zstd').layer).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    expect(mediaTypes(true, 'uncompressed').manifest).toBe('application/vnd.oci.image.manifest.v1+json');
  });
});
