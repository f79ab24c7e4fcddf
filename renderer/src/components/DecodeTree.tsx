// A decoded packet as a tree: layers, then their fields; checksum verdicts and problems inline.
// Arrow keys walk it (Left/Right fold), selecting an item lights up its bytes.
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { DecodedLayerJson } from '../../../common/contract';

export interface TreeNode {
  key: string;
  text: string;
  range: { start: number; end: number };
  tone?: 'good' | 'bad' | 'note';
  children: TreeNode[];
}

const layerTitles: Record<string, string> = {
  ipv4: 'Internet Protocol Version 4',
  ipv6: 'Internet Protocol Version 6',
  icmp: 'Internet Control Message Protocol',
  icmpv6: 'Internet Control Message Protocol v6',
  udp: 'User Datagram Protocol',
  tcp: 'Transmission Control Protocol',
};

function layerLine(layer: DecodedLayerJson): string {
  const title = layerTitles[layer.kind] ?? layer.name ?? layer.kind;
  const field = (name: string) => layer.fields?.find((candidate) => candidate.name === name)?.display;
  if (layer.kind === 'ipv4' || layer.kind === 'ipv6') return `${title}, Src: ${field('src')}, Dst: ${field('dst')}`;
  if (layer.kind === 'udp' || layer.kind === 'tcp') return `${title}, Src Port: ${field('srcPort')}, Dst Port: ${field('dstPort')}`;
  if (layer.kind === 'icmp' || layer.kind === 'icmpv6') return `${title}, ${field('type') ?? ''}`;
  return title;
}

/** Pure: the tree for a decoded entry. */
export function buildTree(layers: readonly DecodedLayerJson[], prefix = ''): TreeNode[] {
  return layers.map((layer, index) => {
    const key = `${prefix}${index}`;
    const length = layer.range.end - layer.range.start;
    if (layer.kind === 'payload') {
      return {
        key,
        text: `Data (${length} byte${length === 1 ? '' : 's'})${layer.note ? ` — ${layer.note}` : ''}`,
        range: layer.range,
        children: layer.data ? [{ key: `${key}.d`, text: `Data: ${layer.data.length > 96 ? `${layer.data.slice(0, 96)}…` : layer.data}`, range: layer.range, children: [] }] : [],
      };
    }
    if (layer.kind === 'malformed') {
      return { key, text: `Malformed: ${layer.reason ?? 'unreadable bytes'} (${length} bytes)`, range: layer.range, tone: 'bad', children: [] };
    }
    const children: TreeNode[] = (layer.fields ?? []).map((field, i) => {
      let text = `${field.label}: ${field.display}`;
      let tone: TreeNode['tone'];
      if (field.name === 'checksum' && layer.checksum) {
        const verdict = layer.checksum;
        if (verdict.status === 'correct') {
          text += ' [correct]';
          tone = 'good';
        } else if (verdict.status === 'wrong') {
          text += ` [incorrect, should be 0x${(verdict.expected ?? 0).toString(16).padStart(4, '0')}]`;
          tone = 'bad';
        } else text += ` [unverified: ${verdict.reason}]`;
      }
      return { key: `${key}.f${i}`, text, range: field.range, tone, children: [] };
    });
    for (const [i, problem] of (layer.problems ?? []).entries()) {
      children.push({ key: `${key}.p${i}`, text: `Problem: ${problem}`, range: layer.range, tone: 'bad', children: [] });
    }
    if (layer.quoted?.length) {
      const start = layer.quoted[0].range.start;
      const end = layer.quoted[layer.quoted.length - 1].range.end;
      children.push({ key: `${key}.q`, text: 'Quoted packet', range: { start, end }, tone: 'note', children: buildTree(layer.quoted, `${key}.q`) });
    }
    return { key, text: layerLine(layer), range: layer.range, children };
  });
}

export interface DecodeTreeProps {
  layers: readonly DecodedLayerJson[];
  label: string;
  onSelectRange(range: { start: number; end: number } | null): void;
  /** A byte clicked in the hex view: select the narrowest item containing it. */
  byte?: number | null;
}

export function DecodeTree({ layers, label, onSelectRange, byte }: DecodeTreeProps) {
  const tree = useMemo(() => buildTree(layers), [layers]);
  const [open, setOpen] = useState<Set<string>>(() => new Set(tree.map((node) => node.key)));
  const [active, setActive] = useState<string | null>(null);
  const items = useRef(new Map<string, HTMLLIElement>());

  useEffect(() => {
    setOpen(new Set(tree.map((node) => node.key)));
    setActive(null);
  }, [tree]);

  const visible = useMemo(() => {
    const out: { node: TreeNode; depth: number }[] = [];
    const walk = (nodes: TreeNode[], depth: number) => {
      for (const node of nodes) {
        out.push({ node, depth });
        if (node.children.length && open.has(node.key)) walk(node.children, depth + 1);
      }
    };
    walk(tree, 0);
    return out;
  }, [tree, open]);

  // A byte from the hex view: open the path to the narrowest field holding it.
  useEffect(() => {
    if (byte === null || byte === undefined) return;
    let best: { node: TreeNode; path: string[] } | null = null;
    const walk = (nodes: TreeNode[], path: string[]) => {
      for (const node of nodes) {
        if (byte < node.range.start || byte >= node.range.end) continue;
        const size = node.range.end - node.range.start;
        if (!best || size <= best.node.range.end - best.node.range.start) best = { node, path };
        walk(node.children, [...path, node.key]);
      }
    };
    walk(tree, []);
    const found = best as { node: TreeNode; path: string[] } | null;
    if (found) {
      setOpen((current) => new Set([...current, ...found.path]));
      setActive(found.node.key);
      onSelectRange(found.node.range);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [byte, tree]);

  const choose = (node: TreeNode) => {
    setActive(node.key);
    onSelectRange(node.range);
    items.current.get(node.key)?.focus();
  };

  const toggle = (node: TreeNode, to?: boolean) => {
    setOpen((current) => {
      const next = new Set(current);
      const want = to ?? !next.has(node.key);
      if (want) next.add(node.key);
      else next.delete(node.key);
      return next;
    });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    // Nothing chosen yet: start from the item that has focus (the first, reached by Tab).
    const from = active ?? (event.target as HTMLElement).dataset.key ?? visible[0]?.node.key;
    const index = visible.findIndex((item) => item.node.key === from);
    const current = visible[index]?.node;
    let target: TreeNode | undefined;
    switch (event.key) {
      case 'ArrowDown':
        target = visible[Math.min(visible.length - 1, index + 1)]?.node;
        break;
      case 'ArrowUp':
        target = visible[Math.max(0, index - 1)]?.node;
        break;
      case 'Home':
        target = visible[0]?.node;
        break;
      case 'End':
        target = visible[visible.length - 1]?.node;
        break;
      case 'ArrowRight':
        if (current?.children.length) toggle(current, true);
        break;
      case 'ArrowLeft':
        if (current?.children.length && open.has(current.key)) toggle(current, false);
        else {
          const depth = visible[index]?.depth ?? 0;
          for (let i = index - 1; i >= 0; i--) if (visible[i].depth < depth) {
            target = visible[i].node;
            break;
          }
        }
        break;
      case 'Enter':
      case ' ':
        if (current?.children.length) toggle(current);
        break;
      default:
        return;
    }
    event.preventDefault();
    if (target) choose(target);
  };

  return (
    <ul role="tree" aria-label={label} className="decode-tree" onKeyDown={onKeyDown}>
      {visible.map(({ node, depth }, i) => {
        const expandable = node.children.length > 0;
        const tabbable = active ? node.key === active : i === 0;
        return (
          <li
            key={node.key}
            ref={(element) => {
              if (element) items.current.set(node.key, element);
              else items.current.delete(node.key);
            }}
            role="treeitem"
            data-key={node.key}
            aria-level={depth + 1}
            aria-expanded={expandable ? open.has(node.key) : undefined}
            aria-selected={node.key === active}
            tabIndex={tabbable ? 0 : -1}
            className={`tree-item${node.key === active ? ' active' : ''}${node.tone ? ` tone-${node.tone}` : ''}`}
            style={{ paddingLeft: `${depth * 16 + 4}px` }}
            onClick={() => choose(node)}
            onDoubleClick={() => expandable && toggle(node)}
          >
            <span className="twisty" aria-hidden="true" onClick={(event) => {
              event.stopPropagation();
              if (expandable) toggle(node);
            }}>
              {expandable ? (open.has(node.key) ? '▾' : '▸') : ''}
            </span>
            {node.text}
          </li>
        );
      })}
    </ul>
  );
}
